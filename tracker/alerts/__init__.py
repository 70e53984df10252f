"""Alerts: who gets which event (pure matching), how it reads (pure rendering), and the
outbox drain that hands queued messages to a notifier (console or Telegram)."""

from __future__ import annotations
