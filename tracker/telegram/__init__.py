"""Telegram edge: the bot people talk to, and the sender that delivers the outbox.

Modules, one job each:

* :mod:`~tracker.telegram.sender` — ``TelegramNotifier`` (outbox ``Notifier``) and ``make_bot``;
* :mod:`~tracker.telegram.transport` — ``LeanRequest``: keep-alive HTTP/1.1 for the sender;
* :mod:`~tracker.telegram.split` — ``split_html``: long Telegram HTML into ≤ 4096-char parts;
* :mod:`~tracker.telegram.digest` — ``build_digest``: the text of a digest (pure);
* :mod:`~tracker.telegram.handlers` — what each command and button does;
* :mod:`~tracker.telegram.bot` — ``build_application`` and starting/stopping it in a daemon;
* :mod:`~tracker.telegram.texts` — every string the bot says, in Arabic and English.

Nothing here runs at import time; the daemon builds the bot and passes it in.
"""

from __future__ import annotations
