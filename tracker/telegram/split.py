"""Splitting Telegram HTML into messages of at most ``limit`` characters. Pure.

Telegram refuses a text longer than 4096 characters, so a long message goes out in parts.
Lengths are counted in UTF-16 code units of the HTML source — an upper bound of what
Telegram counts after parsing entities — so a part that fits here fits there.

Order of preference for where a part ends (the latest such place that fits wins):
1. a paragraph break (an empty line);
2. a line break;
3. a space;
4. any other place between characters.
A part never ends inside a tag, an entity (``&amp;``) or a link (``<a>…</a>``); tags open
at the cut (``<b>``, ``<i>``…) are closed at the end of the part and reopened at the start of
the next. Only a link longer than a whole part is cut inside, as two links to the same target.
Joining the parts' visible texts gives back the visible text of the input.
"""

from __future__ import annotations

import re

_UNIT = re.compile(r"<[^<>]*>|&#?[a-zA-Z0-9]+;|[\s\S]")
_OPEN = re.compile(r"<\s*([a-zA-Z][\w-]*)")
_CLOSE = re.compile(r"<\s*/\s*([a-zA-Z][\w-]*)")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _closing(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _step(stack: list[tuple[str, str]], unit: str) -> list[tuple[str, str]]:
    """The stack of open tags after ``unit``."""
    if not unit.startswith("<") or len(unit) < 3:
        return stack
    if m := _CLOSE.match(unit):
        name = m.group(1).lower()
        for k in range(len(stack) - 1, -1, -1):
            if stack[k][0] == name:
                return stack[:k]
        return stack
    if m := _OPEN.match(unit):
        return [*stack, (m.group(1).lower(), unit)]
    return stack


def _priority(units: list[str], j: int) -> int:
    u = units[j]
    if u == "\n":
        return 3 if j > 0 and units[j - 1] == "\n" else 2
    if u.isspace():
        return 1
    return 0


def split_html(text: str, limit: int = 4096) -> list[str]:
    """``text`` as a list of parts, each at most ``limit`` long (see the module docstring)."""
    if utf16_len(text) <= limit:
        return [text]
    units = _UNIT.findall(text)
    sizes = [utf16_len(u) for u in units]
    parts: list[str] = []
    pos = 0
    stack: list[tuple[str, str]] = []
    while pos < len(units):
        prefix = "".join(raw for _, raw in stack)
        length = utf16_len(prefix)
        current = stack
        best: dict[int, tuple[int, list[tuple[str, str]]]] = {}
        fallback: tuple[int, list[tuple[str, str]]] | None = None
        j = pos
        while j < len(units):
            length += sizes[j]
            current = _step(current, units[j])
            if length + utf16_len(_closing(current)) > limit:
                break
            if not any(name == "a" for name, _ in current):
                best[_priority(units, j)] = (j + 1, current)
            fallback = (j + 1, current)
            j += 1
        if j == len(units):
            parts.append(prefix + "".join(units[pos:]) + _closing(current))
            break
        choice = next((best[p] for p in (3, 2, 1, 0) if p in best), fallback)
        if choice is None:
            raise ValueError(f"limit {limit} is too small for the open tags at this point")
        cut, after = choice
        parts.append(prefix + "".join(units[pos:cut]) + _closing(after))
        pos, stack = cut, after
    return parts
