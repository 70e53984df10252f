"""Feed strings made harmless for the place they are written to (pure functions).

A feed title is data from a stranger. Written raw it can move an operator's cursor or
rewrite their terminal (an ESC sequence), crash or restyle a rich console (``[/b]``,
``[video]``), or run in a spreadsheet (``=HYPERLINK(``). Every output escapes for its own
medium; this module holds the console side, for every command that prints feed strings:

- :func:`terminal_text` — C0 controls (except newline and tab), DEL, C1 controls and the
  bidi overrides/isolates that reorder what a terminal shows are deleted. Use it for plain
  streams (the console notifier, logs written as text).
- :func:`console_markup` — :func:`terminal_text`, then rich markup escaped
  (``rich.markup.escape``), for strings printed by a rich ``Console`` or put in a ``Table``
  cell with markup on.

Telegram HTML is escaped with :func:`html.escape` where messages are rendered, and the
exports escape for their own formats (CSV cells are defused against formulas in
``tracker.export._csv``).
"""

from __future__ import annotations

import re

from rich.markup import escape as _rich_escape

# C0 minus \t and \n, DEL, C1; bidi embeddings/overrides/isolates (U+202A–U+202E, U+2066–U+2069).
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_text(text: str) -> str:
    """``text`` without the characters a terminal would act on instead of showing."""
    return _TERMINAL_UNSAFE.sub("", text)


def console_markup(text: str) -> str:
    """``text`` safe to print through rich with markup on: shown exactly, never styled."""
    return _rich_escape(terminal_text(text))
