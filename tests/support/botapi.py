"""A loopback Telegram Bot API stand-in that the real python-telegram-bot client talks to.

It is a small HTTP/1.1 server on asyncio (its own thread and loop), fast enough for thousands
of requests per second with keep-alive. It serves the methods PTB calls while an
``Application`` starts, polls and stops, and the ones tracker sends with.

Order of decisions for one request ``POST /bot<token>/<method>``:

1. ``/_control/...`` paths are the test's own channel (stats, faults) — used when the server
   runs in another process (``python tests/support/botapi.py --port N``);
2. an unknown method is recorded in :attr:`BotApiServer.unknown` and answered 404 — leaving
   the ``with`` block then fails the test, so a PTB upgrade calling something new is loud;
3. a rejected token (:attr:`BotApiServer.token_rejected`) answers every method 401;
   an active flood wait (:meth:`BotApiServer.flood`, one chat or the whole bot) answers 429
   with the time left, like Telegram, and a call that arrives after the wait was announced
   (plus a grace for calls already in flight) is recorded in :attr:`violations`;
   a scripted fault matching the method and chat (first match, counted down) answers instead:
   429 with ``parameters.retry_after``, 403 blocked, 400 chat not found, 500, a delay, or a
   success whose body is unreadable ("garbled": not JSON; "notamessage": ``result: true``)
   after the message was delivered;
4. ``parse_mode=HTML`` texts are validated against Telegram's rules (:func:`parse_html`);
   a violation answers 400 "Bad Request: can't parse entities: …" like Telegram;
5. the method runs and every delivered message is recorded per chat.

Usage::

    with BotApiServer() as api:
        bot = Bot(token, base_url=api.base_url + "/bot")   # PTB appends the token
        ...
        api.inject_command(chat_id=42, text="/start")       # served by getUpdates
        api.texts(42)                                        # what chat 42 received
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import html
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

BOT_USER = {"id": 1_000_001, "is_bot": True, "first_name": "Tracker", "username": "tracker_bot",
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False}

# --- Telegram HTML ------------------------------------------------------------------------

_ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
            "a", "code", "pre", "blockquote", "tg-emoji"}
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_ATTR = re.compile(r"""\s*([a-zA-Z_-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
MAX_TEXT = 4096


class HtmlRejected(ValueError):
    """Telegram would refuse this HTML; the message is Telegram's description."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """The plain text Telegram shows for ``text`` in HTML parse mode, or :class:`HtmlRejected`.

    Only the tags Telegram supports, well nested; ``<a>`` needs ``href``, ``<span>`` needs
    ``class="tg-spoiler"``; only the named entities ``&lt; &gt; &amp; &quot;`` and numeric
    ones; a bare ``<``, ``>`` or ``&`` is refused.
    """
    out: list[str] = []
    stack: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "<":
            end = text.find(">", i)
            if end < 0:
                raise HtmlRejected(f"can't parse entities: Unclosed start tag at byte offset {i}")
            body = text[i + 1:end]
            if body.startswith("/"):
                name = body[1:].strip().lower()
                if not stack or stack[-1] != name:
                    raise HtmlRejected(
                        f"can't parse entities: Unmatched end tag at byte offset {i}, "
                        f'expected "</{stack[-1] if stack else ""}>", found "</{name}>"')
                stack.pop()
            else:
                m = re.match(r"([a-zA-Z][a-zA-Z0-9-]*)", body)
                if not m:
                    raise HtmlRejected(
                        f"can't parse entities: Unsupported start tag at byte offset {i}")
                name = m.group(1).lower()
                if name not in _ALLOWED:
                    raise HtmlRejected(
                        f'can\'t parse entities: Unsupported start tag "{name}" '
                        f"at byte offset {i}")
                attrs = _attributes(body[m.end():], i)
                _check_attributes(name, attrs, i)
                stack.append(name)
            i = end + 1
        elif ch == "&":
            m = _ENTITY.match(text, i)
            if not m:
                raise HtmlRejected(
                    f"can't parse entities: Character entity expected at byte offset {i}")
            out.append(html.unescape(m.group(0)))
            i = m.end()
        elif ch == ">":
            raise HtmlRejected(f"can't parse entities: Unexpected '>' at byte offset {i}")
        else:
            j = i
            while j < n and text[j] not in "<&>":
                j += 1
            out.append(text[i:j])
            i = j
    if stack:
        raise HtmlRejected(
            f'can\'t parse entities: Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _attributes(rest: str, offset: int) -> dict[str, str]:
    attrs: dict[str, str] = {}
    rest = rest.rstrip().rstrip("/")
    pos = 0
    while pos < len(rest):
        m = _ATTR.match(rest, pos)
        if not m or m.end() == pos:
            raise HtmlRejected(f"can't parse entities: Bad attribute at byte offset {offset}")
        value = next((g for g in m.groups()[1:] if g is not None), "")
        if "<" in value:
            raise HtmlRejected(f"can't parse entities: Bad attribute at byte offset {offset}")
        attrs[m.group(1).lower()] = html.unescape(value)
        pos = m.end()
    return attrs


def _check_attributes(name: str, attrs: dict[str, str], offset: int) -> None:
    if name == "a" and not attrs.get("href"):
        raise HtmlRejected(f"can't parse entities: Tag \"a\" needs href at byte offset {offset}")
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise HtmlRejected(
            f"can't parse entities: Tag \"span\" must have class \"tg-spoiler\" "
            f"at byte offset {offset}")
    allowed = {"a": {"href"}, "span": {"class"}, "code": {"class"}, "pre": set(),
               "blockquote": {"expandable"}, "tg-emoji": {"emoji-id"}}.get(name, set())
    extra = set(attrs) - allowed
    if extra:
        raise HtmlRejected(
            f'can\'t parse entities: Unsupported attribute "{sorted(extra)[0]}" '
            f"at byte offset {offset}")


# --- what the server records ---------------------------------------------------------------


@dataclass
class Sent:
    """One message the bot delivered (and its later edits)."""

    chat_id: str
    message_id: int
    method: str
    text: str | None
    parse_mode: str | None
    reply_markup: Any
    plain: str | None = None  # the text as the reader sees it (entities parsed)
    document: tuple[str, bytes] | None = None
    edits: list[str] = field(default_factory=list)
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class Flood:
    """A flood wait: 429 to ``chat_id`` (None: every chat) until ``seconds`` after it began."""

    chat_id: str | None
    seconds: float
    grace: float
    began: float | None = None  # monotonic time of the first 429


@dataclass(frozen=True)
class Violation:
    """A call that arrived while a flood wait it had been told about was still running."""

    chat_id: str
    method: str
    late_by: float  # seconds after the first 429 of that wait


@dataclass
class Fault:
    """A scripted answer: ``kind`` is 429, 403, 400, 500 or "slow"."""

    kind: str
    chat_id: str | None
    methods: frozenset[str] | None
    times: int | None
    retry_after: int = 1
    delay: float = 0.0


class _ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


_SENDING = frozenset({"sendMessage", "sendDocument", "editMessageText",
                      "editMessageReplyMarkup", "answerCallbackQuery"})
_JSON_FIELDS = {"reply_markup", "commands", "allowed_updates", "entities", "link_preview_options",
                "reply_parameters", "scope"}


class BotApiServer:
    """The stand-in; a context manager that starts and stops the server thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.lock = threading.Lock()
        self.messages: dict[str, list[Sent]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.unknown: list[str] = []
        self.rejected: list[tuple[str, str]] = []  # (chat_id, description) of 400 parse errors
        self.faults: list[Fault] = []
        self.floods: list[Flood] = []
        self.violations: list[Violation] = []
        self.token_rejected = False
        self.record_calls = True
        self.commands: list[dict[str, Any]] = []
        self.descriptions: dict[tuple[str, str], str] = {}
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._new_update: asyncio.Condition | None = None
        self._by_id: dict[tuple[str, int], Sent] = {}
        self._writers: set[asyncio.StreamWriter] = set()

    # --- lifecycle --------------------------------------------------------------------
    def __enter__(self) -> BotApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self.unknown and exc[0] is None:
            raise AssertionError(f"the bot called methods the stand-in lacks: {self.unknown}")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="botapi", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("Bot API stand-in did not start")

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._new_update = asyncio.Condition()
        self._server = loop.run_until_complete(
            asyncio.start_server(self._serve, self.host, self.port, backlog=1024))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; give PTB ``base_url=api.base_url + "/bot"``."""
        return f"http://{self.host}:{self.port}"

    # --- scripting from the test ------------------------------------------------------
    def fault(self, kind: str, *, chat_id: int | str | None = None, times: int | None = 1,
              methods: tuple[str, ...] | None = ("sendMessage", "editMessageText"),
              retry_after: int = 1, delay: float = 0.0) -> None:
        """Answer the next ``times`` matching calls (None: all) with a fault.

        ``kind``: "429" (flood, ``retry_after`` seconds), "403" (blocked by the user),
        "400" (chat not found), "500", "slow" (answer normally after ``delay`` seconds), or
        "garbled" / "notamessage" (deliver, then answer 200 with an unreadable body).
        """
        with self.lock:
            self.faults.append(Fault(kind, None if chat_id is None else str(chat_id),
                                     None if methods is None else frozenset(methods), times,
                                     retry_after, delay))

    def flood(self, seconds: float, *, chat_id: int | str | None = None,
              grace: float = 0.15) -> None:
        """From the next sending call to ``chat_id`` (None: to any chat) on, answer 429 for
        ``seconds``; calls later than ``grace`` after the first 429 count as violations."""
        with self.lock:
            self.floods.append(Flood(None if chat_id is None else str(chat_id), seconds, grace))

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def inject(self, update: dict[str, Any]) -> int:
        """Queue a raw update (without ``update_id``) for getUpdates; returns its id."""
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **update}
        assert self._loop is not None

        async def put() -> None:
            assert self._new_update is not None
            async with self._new_update:
                self._updates.append(update)
                self._new_update.notify_all()

        asyncio.run_coroutine_threadsafe(put(), self._loop).result(5)
        return update_id

    def inject_command(self, chat_id: int, text: str, *, language_code: str = "ar",
                       chat_type: str = "private", user_id: int | None = None) -> int:
        """A user (or group member) sends ``text``; a leading /command is marked as such."""
        user = {"id": user_id or chat_id, "is_bot": False, "first_name": "Reader",
                "language_code": language_code}
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = "Reader"
        else:
            chat["title"] = "Desk"
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                                   "chat": chat, "from": user, "text": text}
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": utf16_len(command)}]
        return self.inject({"message": message})

    def inject_callback(self, chat_id: int, message_id: int, data: str, *,
                        language_code: str = "ar", chat_type: str = "private") -> int:
        """A user presses an inline button of bot message ``message_id`` carrying ``data``."""
        sent = self.find(chat_id, message_id)
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        chat.update({"first_name": "Reader"} if chat_type == "private" else {"title": "Desk"})
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat,
                   "from": BOT_USER, "text": sent.plain if sent else "…"}
        user = {"id": abs(chat_id), "is_bot": False, "first_name": "Reader",
                "language_code": language_code}
        return self.inject({"callback_query": {
            "id": f"cb{next(self._update_ids)}", "from": user, "chat_instance": str(chat_id),
            "data": data, "message": message}})

    # --- reading what happened ----------------------------------------------------------
    def sent(self, chat_id: int | str) -> list[Sent]:
        with self.lock:
            return list(self.messages.get(str(chat_id), []))

    def texts(self, chat_id: int | str) -> list[str]:
        """What the reader of ``chat_id`` sees, message by message (latest edit applied)."""
        return [s.plain or "" for s in self.sent(chat_id)]

    def find(self, chat_id: int | str, message_id: int) -> Sent | None:
        with self.lock:
            return self._by_id.get((str(chat_id), message_id))

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {chat: len(msgs) for chat, msgs in self.messages.items()}

    def total(self) -> int:
        with self.lock:
            return sum(len(m) for m in self.messages.values())

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p for m, p in self.calls if m == method]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Block (sync tests) until ``predicate()`` holds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting on the Bot API stand-in")
            time.sleep(0.01)

    async def until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Await (async tests) until ``predicate()`` holds, for at most ``within`` seconds."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting on the Bot API stand-in")
            await asyncio.sleep(0.01)

    # --- HTTP -------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                verb, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    body = await _read_chunked(reader)
                else:
                    body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, payload = await self._dispatch(verb, path, headers, body)
                data = payload if isinstance(payload, bytes) else \
                    json.dumps(payload, ensure_ascii=False).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\nConnection: keep-alive\r\n\r\n".encode()
                    + data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _dispatch(self, verb: str, path: str, headers: dict[str, str],
                        body: bytes) -> tuple[int, Any]:
        if path.startswith("/_control/"):
            return 200, self._control(path[len("/_control/"):], body)
        m = re.match(r"^/bot([^/]+)/(\w+)", path)
        if not m:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        method = m.group(2)
        params = _parse_params(headers.get("content-type", ""), body)
        if self.record_calls:
            with self.lock:
                self.calls.append((method, params))
        if self.token_rejected:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        handler = getattr(self, "_m_" + method, None)
        if handler is None:
            with self.lock:
                self.unknown.append(method)
            return 404, {"ok": False, "error_code": 404,
                         "description": "Not Found: method not found"}
        try:
            self._apply_flood(method, params)
            garble = await self._apply_fault(method, params)
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
            if garble == "garbled":
                return 200, b"<html><body>Bad Gateway</body></html>"
            if garble == "notamessage":
                return 200, {"ok": True, "result": True}
        except _ApiError as exc:
            payload: dict[str, Any] = {"ok": False, "error_code": exc.code,
                                       "description": exc.description}
            if exc.parameters:
                payload["parameters"] = exc.parameters
            return exc.code, payload
        return 200, {"ok": True, "result": result}

    def _apply_flood(self, method: str, params: dict[str, Any]) -> None:
        if method not in _SENDING or method == "answerCallbackQuery":
            return
        chat = str(params.get("chat_id"))
        now = time.monotonic()
        with self.lock:
            for f in self.floods:
                if f.chat_id is not None and f.chat_id != chat:
                    continue
                if f.began is None:
                    f.began = now
                left = f.began + f.seconds - now
                if left <= 0:
                    continue
                if now - f.began > f.grace:
                    self.violations.append(Violation(chat, method, now - f.began))
                raise _ApiError(429, f"Too Many Requests: retry after {int(left + 0.999)}",
                                {"retry_after": int(left + 0.999)})

    async def _apply_fault(self, method: str, params: dict[str, Any]) -> str | None:
        chat = str(params.get("chat_id")) if "chat_id" in params else None
        chosen: Fault | None = None
        with self.lock:
            for f in self.faults:
                if f.methods is not None and method not in f.methods:
                    continue
                if f.chat_id is not None and f.chat_id != chat:
                    continue
                chosen = f
                if f.times is not None:
                    f.times -= 1
                    if f.times <= 0:
                        self.faults.remove(f)
                break
        if chosen is None:
            return None
        if chosen.kind in ("garbled", "notamessage"):
            return chosen.kind
        if chosen.kind == "slow":
            await asyncio.sleep(chosen.delay)
        elif chosen.kind == "429":
            raise _ApiError(429, f"Too Many Requests: retry after {chosen.retry_after}",
                            {"retry_after": chosen.retry_after})
        elif chosen.kind == "403":
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        elif chosen.kind == "400":
            raise _ApiError(400, "Bad Request: chat not found")
        elif chosen.kind == "500":
            raise _ApiError(500, "Internal Server Error")
        else:
            raise AssertionError(f"unknown fault kind {chosen.kind}")
        return None

    def _control(self, what: str, body: bytes) -> Any:
        if what == "stats":
            with self.lock:
                return {"counts": {c: len(m) for c, m in self.messages.items()},
                        "total": sum(len(m) for m in self.messages.values()),
                        "rejected": len(self.rejected), "unknown": list(self.unknown)}
        if what == "reset":
            with self.lock:
                self.messages.clear()
                self._by_id.clear()
                self.calls.clear()
            return True
        if what == "fault":
            spec = json.loads(body or b"{}")
            methods = spec.pop("methods", ["sendMessage", "editMessageText"])
            self.fault(spec.pop("kind"), methods=tuple(methods), **spec)
            return True
        if what == "no_calls":
            self.record_calls = False
            return True
        return None

    # --- methods ----------------------------------------------------------------------
    def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    def _m_logOut(self, params: dict[str, Any]) -> Any:
        return True

    def _m_close(self, params: dict[str, Any]) -> Any:
        return True

    def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        return True

    def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        with self.lock:
            self.commands.append(params)
        return True

    def _m_deleteMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    def _m_setMyDescription(self, params: dict[str, Any]) -> Any:
        with self.lock:
            self.descriptions[("description", params.get("language_code") or "")] = \
                str(params.get("description", ""))
        return True

    def _m_setMyShortDescription(self, params: dict[str, Any]) -> Any:
        with self.lock:
            self.descriptions[("short", params.get("language_code") or "")] = \
                str(params.get("short_description", ""))
        return True

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset", 0) or 0)
        timeout = float(params.get("timeout", 0) or 0)
        limit = int(params.get("limit", 100) or 100)
        assert self._new_update is not None
        async with self._new_update:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), timeout)
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            return self._updates[:limit]

    def _chat(self, params: dict[str, Any]) -> str:
        chat = params.get("chat_id")
        if chat is None or str(chat) == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        return str(chat)

    def _check_text(self, chat: str, text: str | None, parse_mode: str | None) -> str:
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        plain = text
        if parse_mode and parse_mode.upper() == "HTML":
            try:
                plain = parse_html(text)
            except HtmlRejected as exc:
                with self.lock:
                    self.rejected.append((chat, str(exc)))
                raise _ApiError(400, f"Bad Request: {exc}") from exc
        if not plain.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > MAX_TEXT:
            with self.lock:
                self.rejected.append((chat, "message is too long"))
            raise _ApiError(400, "Bad Request: message is too long")
        return plain

    def _message(self, sent: Sent) -> dict[str, Any]:
        chat_id = int(sent.chat_id) if sent.chat_id.lstrip("-").isdigit() else sent.chat_id
        msg: dict[str, Any] = {
            "message_id": sent.message_id, "date": int(time.time()), "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private" if not str(chat_id).startswith("-")
                     else "group", "title": "Desk", "first_name": "Reader"},
        }
        if sent.plain is not None:
            msg["text"] = sent.plain
        if sent.reply_markup:
            msg["reply_markup"] = sent.reply_markup
        if sent.document:
            msg["document"] = {"file_id": f"f{sent.message_id}", "file_unique_id":
                               f"u{sent.message_id}", "file_name": sent.document[0]}
        return msg

    def _record(self, sent: Sent) -> dict[str, Any]:
        with self.lock:
            self.messages.setdefault(sent.chat_id, []).append(sent)
            self._by_id[(sent.chat_id, sent.message_id)] = sent
        return self._message(sent)

    def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        parse_mode = params.get("parse_mode")
        plain = self._check_text(chat, params.get("text"), parse_mode)
        return self._record(Sent(chat, next(self._message_ids), "sendMessage",
                                 params.get("text"), parse_mode, params.get("reply_markup"),
                                 plain))

    def _m_sendDocument(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        doc = params.get("document")
        if not isinstance(doc, tuple):
            raise _ApiError(400, "Bad Request: there is no document in the request")
        caption = params.get("caption")
        plain = self._check_text(chat, caption, params.get("parse_mode")) if caption else None
        return self._record(Sent(chat, next(self._message_ids), "sendDocument", caption,
                                 params.get("parse_mode"), params.get("reply_markup"), plain,
                                 document=doc))

    def _edit_target(self, params: dict[str, Any]) -> Sent:
        chat = self._chat(params)
        sent = self.find(chat, int(params.get("message_id", 0)))
        if sent is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return sent

    def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        sent = self._edit_target(params)
        parse_mode = params.get("parse_mode")
        plain = self._check_text(sent.chat_id, params.get("text"), parse_mode)
        markup = params.get("reply_markup")
        if params.get("text") == sent.text and markup == sent.reply_markup:
            raise _ApiError(400, "Bad Request: message is not modified: specified new message "
                                 "content and reply markup are exactly the same as a current "
                                 "content and reply markup of the message")
        with self.lock:
            sent.edits.append(params.get("text") or "")
            sent.text, sent.plain, sent.parse_mode = params.get("text"), plain, parse_mode
            sent.reply_markup = markup
        return self._message(sent)

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        sent = self._edit_target(params)
        with self.lock:
            sent.reply_markup = params.get("reply_markup")
        return self._message(sent)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readline()).strip().split(b";")[0], 16)
        if size == 0:
            await reader.readline()
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readline()


def _parse_params(content_type: str, body: bytes) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if content_type.startswith("multipart/form-data"):
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is not None:
                params[str(name)] = (filename, payload)
            else:
                params[str(name)] = payload.decode()
    elif content_type.startswith("application/json"):
        params = json.loads(body or b"{}")
        return params
    else:
        for k, v in parse_qs(body.decode(), keep_blank_values=True).items():
            params[k] = v[-1]
    for k in _JSON_FIELDS & params.keys():
        if isinstance(params[k], str):
            with contextlib.suppress(ValueError):
                params[k] = json.loads(params[k])
    return params


def main() -> None:
    """Run the stand-in in its own process: prints the port, serves until stdin closes."""
    import argparse
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-calls", action="store_true", help="do not keep a call log")
    args = parser.parse_args()
    server = BotApiServer(port=args.port)
    server.record_calls = not args.no_calls
    server.start()
    print(server.port, flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
