"""tracker — recognises the events of the US–China AI-chip race in Arabic news feeds."""

from __future__ import annotations

__version__ = "0.1.0"
