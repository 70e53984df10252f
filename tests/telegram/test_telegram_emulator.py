"""The sender against an independent Bot API emulator: the npm package telegram-test-api,
behind ``tests/support/tta_server.js`` (which makes its answers real where they depart from
the Bot API and adds Telegram's flood waits). The emulator keeps its own record of what the
bot sent; the front logs every call with its time and answer.

Skipped where ``node`` or the package is missing (``npm install -g telegram-test-api@4.2.1``,
as ``.ci/run`` does; ``TRACKER_TTA_NODE_PATH`` names another ``node_modules``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Clock
from tests.telegram.helpers import (
    ENTITIES,
    TOKEN,
    TYPES,
    FakeLabels,
    drain_until_done,
    queue,
    wall,
)
from tracker.alerts.outbox import drain
from tracker.store.botport import StoreForBot
from tracker.store.repo import Store
from tracker.store.subscribers import get_subscriber, outbox_states
from tracker.telegram.bot import BotSettings, build_application, start_bot, stop_bot
from tracker.telegram.sender import SenderSettings, TelegramNotifier, make_bot

FRONT = Path(__file__).resolve().parents[1] / "support" / "tta_server.js"


def _node_path() -> str | None:
    """A ``node_modules`` folder holding telegram-test-api, or None."""
    if os.environ.get("TRACKER_TTA_NODE_PATH"):
        return os.environ["TRACKER_TTA_NODE_PATH"]
    npm = shutil.which("npm")
    if npm is None:
        return None
    root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=30,
                          check=False).stdout.strip()
    return root if root and (Path(root) / "telegram-test-api").is_dir() else None


class Emulator:
    """The running front: scripting (storms, garbles) and what the emulator recorded."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def storm(self, chat_id: int | None, count: int, retry_after: int,
              grace: float = 0.15) -> None:
        """The next ``count`` sends to ``chat_id`` (None: to any chat, a bot-wide wait)
        answer 429 with ``retry_after``; a call more than ``grace`` seconds into a wait is
        a violation."""
        httpx.post(f"{self.url}/_control/storm", json={
            "chat_id": chat_id, "count": count, "retry_after": retry_after,
            "grace_ms": grace * 1000}).raise_for_status()

    def garble(self, chat_id: int, count: int = 1) -> None:
        """The next ``count`` sends to ``chat_id`` are stored, then answered unreadably."""
        httpx.post(f"{self.url}/_control/garble",
                   json={"chat_id": chat_id, "count": count}).raise_for_status()

    def calls(self) -> list[dict[str, Any]]:
        """Every Bot API call: method, chat, at (epoch seconds), status, violation."""
        answer: list[dict[str, Any]] = httpx.get(f"{self.url}/_control/log").json()
        return answer

    def delivered(self, chat_id: int) -> list[str]:
        """The texts the emulator stored as sent by the bot to ``chat_id``, oldest first."""
        history = httpx.post(f"{self.url}/getUpdatesHistory", json={"token": TOKEN}).json()
        return [h["message"]["text"] for h in history["result"]
                if "chat_id" in h.get("message", {})
                and str(h["message"]["chat_id"]) == str(chat_id)]

    def sends(self, chat_id: int, status: int | None = 200) -> list[float]:
        """Times of the sendMessage calls to ``chat_id`` (with that answer status)."""
        return [c["at"] for c in self.calls() if c["method"] == "sendMessage"
                and c["chat"] == str(chat_id) and (status is None or c["status"] == status)]


def _start(patch: Any, tmp_path: Path, **extra: Any) -> Iterator[Emulator]:
    """Run the front (``patch``: True, or "calls" to keep the emulator's own message
    answers; ``menu=False``: the emulator refuses the menu calls) until the test is done."""
    node, node_path = shutil.which("node"), _node_path()
    if node is None or node_path is None:
        pytest.skip("telegram-test-api is not installed (npm install -g telegram-test-api)")
    errors = tmp_path / "emulator.err"
    with errors.open("w") as err, subprocess.Popen(
            [node, str(FRONT), json.dumps({"port": 0, "patch": patch, **extra})],
            env={**os.environ, "NODE_PATH": node_path}, stdout=subprocess.PIPE, stderr=err,
            text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.match(r"listening (\d+)", line)
            assert match, f"the emulator did not start: {line!r} {errors.read_text()}"
            yield Emulator(int(match.group(1)))
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    yield from _start(True, tmp_path)


@pytest.fixture
def raw_emulator(tmp_path: Path) -> Iterator[Emulator]:
    """The emulator's own sendMessage answers: a millisecond date and the request's fields
    echoed back (``link_preview_options`` as a JSON string) — a 200 PTB cannot read."""
    yield from _start("calls", tmp_path)


def notifier_for(emulator: Emulator, store: Store, labels: FakeLabels,
                 interval: float) -> TelegramNotifier:
    settings = SenderSettings(api_url=f"{emulator.url}/bot", overall_per_second=1000.0,
                              per_chat_interval=interval, timeout=5.0)
    return TelegramNotifier(make_bot(TOKEN, settings), StoreForBot(store), labels,
                            per_chat_interval=interval)


def numbers(texts: list[str]) -> list[str]:
    """The alert numbers ("رقم N") of the texts, in order."""
    return [n for t in texts for n in re.findall(r"رقم \u2066(\d+)", t)]


async def test_the_emulator_gets_each_alert_once_spaced_per_chat(
    emulator: Emulator, store: Store, labels: FakeLabels
) -> None:
    """Every queued alert reaches the emulator once, in order, one per interval per chat."""
    queue(store, {101: 3, 102: 3, 103: 3})
    notifier = notifier_for(emulator, store, labels, 0.3)
    async with notifier.bot:
        await drain_until_done(store, notifier)
    for chat in (101, 102, 103):
        assert numbers(emulator.delivered(chat)) == ["0", "1", "2"]
        gaps = [b - a for a, b in itertools.pairwise(emulator.sends(chat))]
        assert len(gaps) == 2 and min(gaps) >= 0.3 - 0.01, gaps
    assert outbox_states(store) == {"alert/sent": 9}


async def test_a_storm_of_flood_waits_on_one_chat_is_honoured_while_others_flow(
    emulator: Emulator, store: Store, labels: FakeLabels
) -> None:
    """Two 429s in a row on one chat (retry_after=1 each): nothing goes to it before each
    wait has passed, whichever row is next; the other chats are done meanwhile; every alert
    arrives once and in order."""
    queue(store, {201: 3, 202: 3, 203: 3})
    emulator.storm(201, count=2, retry_after=1)
    notifier = notifier_for(emulator, store, labels, 0.1)
    async with notifier.bot:
        await drain_until_done(store, notifier)
    calls = emulator.calls()
    assert [c for c in calls if c["violation"]] == []
    refused = emulator.sends(201, status=429)
    assert len(refused) == 2 and refused[1] >= refused[0] + 1.0
    delivered = emulator.sends(201)
    assert delivered[0] >= refused[1] + 1.0
    assert numbers(emulator.delivered(201)) == ["0", "1", "2"]
    for other in (202, 203):
        assert numbers(emulator.delivered(other)) == ["0", "1", "2"]
        assert emulator.sends(other)[-1] < refused[0] + 1.0  # they did not wait for 201
    assert outbox_states(store) == {"alert/sent": 9}


async def test_a_bot_wide_storm_holds_every_chat_until_it_has_passed(
    emulator: Emulator, store: Store, labels: FakeLabels
) -> None:
    """A 429 for the whole bot (every chat refused for 2 s): beyond the calls in flight
    when it was announced, nothing goes out until it has passed; then all arrive once.

    Telegram's 429 does not say it is bot-wide: the sender learns it from a second chat's
    refusal (see :class:`tracker.alerts.outbox.FloodHolds`). The eight first sends leave at
    once, so "in flight" is given 0.5 s: on a loaded machine (2 cores, several test runs)
    the last of them can reach the emulator that late."""
    chats = list(range(301, 309))
    queue(store, dict.fromkeys(chats, 2))
    grace = 0.5
    emulator.storm(None, count=1, retry_after=2, grace=grace)
    notifier = notifier_for(emulator, store, labels, 0.1)
    async with notifier.bot:
        await drain_until_done(store, notifier)
    calls = emulator.calls()
    assert [c for c in calls if c["violation"]] == []
    first_429 = min(c["at"] for c in calls if c["status"] == 429)
    sent = [c["at"] for c in calls if c["method"] == "sendMessage" and c["status"] == 200]
    assert all(t < first_429 + grace or t >= first_429 + 2.0 for t in sent)
    for chat in chats:
        assert numbers(emulator.delivered(chat)) == ["0", "1"]
    assert outbox_states(store) == {"alert/sent": 16}


async def test_an_unreadable_success_from_the_emulator_is_never_sent_again(
    emulator: Emulator, store: Store, labels: FakeLabels
) -> None:
    """A 200 whose result is not a Message: recorded delivered-unconfirmed, not resent,
    even after every retry delay has passed; the other chat is unaffected."""
    queue(store, {401: 1, 402: 1})
    emulator.garble(401)
    notifier = notifier_for(emulator, store, labels, 0.0)
    async with notifier.bot:
        report = await drain(store, notifier, wall, "t")
        later = Clock(wall())
        later.advance(hours=5)
        again = await drain(store, notifier, later, "t")
    assert report.sent == 2 and report.unconfirmed == 1 and again.sent == 0
    assert len(emulator.delivered(401)) == 1 and len(emulator.delivered(402)) == 1
    assert len(emulator.sends(401, status=None)) == 1
    assert outbox_states(store) == {"alert/sent": 2}


async def test_the_emulators_own_answers_are_unconfirmed_deliveries_sent_once(
    raw_emulator: Emulator, store: Store, labels: FakeLabels
) -> None:
    """Against the emulator's own (unreadable) success answers every alert is sent once
    and recorded delivered-unconfirmed: never "send again" (the issue saw 5 sends in 40 s)."""
    queue(store, {501: 2, 502: 1})
    notifier = notifier_for(raw_emulator, store, labels, 0.0)
    async with notifier.bot:
        report = await drain(store, notifier, wall, "t")
        later = Clock(wall())
        later.advance(hours=5)
        again = await drain(store, notifier, later, "t")
    assert report.sent == 3 and report.unconfirmed == 3 and again.sent == 0
    assert numbers(raw_emulator.delivered(501)) == ["0", "1"]
    assert len(raw_emulator.sends(501, status=None)) == 2
    assert len(raw_emulator.delivered(502)) == 1
    assert outbox_states(store) == {"alert/sent": 3}


# --- the bot people talk to, through the emulator's client API ---------------------------

class Reader:
    """A subscriber typing into the emulator (its /sendCommand, /sendMessage, /sendCallback)."""

    def __init__(self, emulator: Emulator, chat_id: int) -> None:
        self.emulator = emulator
        self.chat_id = chat_id

    def _common(self) -> dict[str, Any]:
        person = {"id": self.chat_id, "first_name": "Reader", "is_bot": False,
                  "language_code": "en"}
        return {"botToken": TOKEN, "date": int(time.time()), "from": person,
                "chat": {"id": self.chat_id, "first_name": "Reader", "type": "private"}}

    def types(self, text: str) -> None:
        """A command (text starting with /) or plain text."""
        if text.startswith("/"):
            head = text.split(" ", 1)[0]
            body = {**self._common(), "text": text,
                    "entities": [{"offset": 0, "length": len(head), "type": "bot_command"}]}
            httpx.post(f"{self.emulator.url}/sendCommand", json=body).raise_for_status()
        else:
            body = {**self._common(), "text": text}
            httpx.post(f"{self.emulator.url}/sendMessage", json=body).raise_for_status()

    def taps(self, message_id: int, data: str) -> None:
        common = self._common()
        message = {"message_id": message_id, "date": common["date"], "chat": common["chat"],
                   "from": {"id": 1000001, "is_bot": True, "first_name": "Tracker"}}
        body = {"botToken": TOKEN, "from": common["from"], "message": message, "data": data}
        httpx.post(f"{self.emulator.url}/sendCallback", json=body).raise_for_status()

    def messages(self) -> list[dict[str, Any]]:
        """What the bot has sent to this chat, as the emulator stores it (edits applied)."""
        history = httpx.post(f"{self.emulator.url}/getUpdatesHistory",
                             json={"token": TOKEN}).json()
        return [{**h["message"], "message_id": h["messageId"]} for h in history["result"]
                if "chat_id" in h.get("message", {})
                and str(h["message"]["chat_id"]) == str(self.chat_id)]

    async def sees(self, count: int, within: float = 10.0) -> list[dict[str, Any]]:
        """Wait until the bot has sent ``count`` messages here; return them."""
        deadline = time.monotonic() + within
        while len(got := self.messages()) < count:
            assert time.monotonic() < deadline, got
            await asyncio.sleep(0.05)
        return got


def buttons(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


@pytest.fixture
async def bot_on_emulator(emulator: Emulator, store: Store, labels: FakeLabels,
                          clock: Clock) -> AsyncIterator[Any]:
    app = build_application(
        {("telegram", "api_url"): f"{emulator.url}/bot",
         ("scheduler", "timezone"): "Asia/Riyadh"},
        StoreForBot(store), labels, clock, token=TOKEN,
        entity_ids_with_labels=[(k, ar, en) for k, (ar, en) in ENTITIES.items()],
        event_types_with_labels=[(k, ar, en) for k, (ar, en) in TYPES.items()],
        # the emulator answers getUpdates at once (no long polling): poll gently
        settings=BotSettings(poll_timeout=1.0, poll_interval=0.05))
    await start_bot(app)
    try:
        yield app
    finally:
        await stop_bot(app)


async def test_a_reader_on_the_emulator_gets_an_answer_to_everything(
    emulator: Emulator, store: Store, clock: Clock, bot_on_emulator: Any
) -> None:
    """Through the emulator's client API: a deep link subscribes and follows, an absurd
    /mute is answered, so are an unknown command and plain text; a keyboard tap edits the
    keyboard's own message (✅ on what is followed) instead of posting; a mute is shown in
    the configured zone; /stop asks first and deletes on "yes"."""
    reader = Reader(emulator, 7001)
    reader.types("/start watch_nvidia")
    first = (await reader.sees(1))[0]["text"]
    assert "Nvidia" in first
    sub = get_subscriber(store, "7001")
    assert sub is not None and ("nvidia", None) in sub.rules
    reader.types("/mute 99999999w")
    assert "365" in (await reader.sees(2))[1]["text"]
    reader.types("/frobnicate")
    assert "/frobnicate" in (await reader.sees(3))[2]["text"]
    reader.types("hello bot")
    assert "/help" in (await reader.sees(4))[3]["text"]
    reader.types("/watch")
    keyboard = (await reader.sees(5))[4]
    reader.taps(keyboard["message_id"], "w:e:0")
    deadline = time.monotonic() + 10
    while "✅ Nvidia" not in buttons(reader.messages()[4]):
        assert time.monotonic() < deadline, reader.messages()[4]
        await asyncio.sleep(0.05)
    reader.taps(keyboard["message_id"], "w+:e:huawei:0")
    while "✅ Huawei" not in buttons(reader.messages()[4]):
        assert time.monotonic() < deadline, reader.messages()[4]
        await asyncio.sleep(0.05)
    assert len(reader.messages()) == 5  # taps edited the keyboard; nothing was posted
    reader.types("/mute 2h")
    local = (clock() + timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")  # UTC+3, +2 h
    assert f"{local} Asia/Riyadh" in (await reader.sees(6))[5]["text"]
    reader.types("/stop")
    ask = (await reader.sees(7))[6]
    assert get_subscriber(store, "7001") is not None  # nothing deleted before confirming
    reader.taps(ask["message_id"], "stop:yes")
    while get_subscriber(store, "7001") is not None:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert len(reader.messages()) == 7
    assert [c for c in emulator.calls() if c["status"] >= 400] == []


# --- the daemon -------------------------------------------------------------------------

@pytest.fixture
def menuless_emulator(tmp_path: Path) -> Iterator[Emulator]:
    """The emulator answering setMyCommands and the descriptions 500 (it knows none)."""
    yield from _start(True, tmp_path, menu=False)


@pytest.mark.slow
def test_tracker_run_on_the_emulator_waits_out_a_flood_and_delivers_once(
    menuless_emulator: Emulator, tmp_path: Path
) -> None:
    """`tracker run` against the emulator: the refused menu calls are one log line and do
    not stop the bot; the alert of a polled item meets a 429 (retry_after=2) and goes out
    once, after the wait; the token appears nowhere in the log."""
    from email.utils import format_datetime

    from tests.support.feedserver import FeedServer, Item, rss
    from tests.telegram.test_telegram_startup import CHAT, REPO, _config, _free_port, _wait

    emulator = menuless_emulator
    port = int(emulator.url.rsplit(":", 1)[1])
    token = "246810:AAF-emulator-secret-token"
    emulator.storm(int(CHAT), count=1, retry_after=2)
    body = rss([Item(title="إنفيديا تكشف عن شريحة جديدة للذكاء الاصطناعي", link="/n/1",
                     guid="n1", pub_date=format_datetime(datetime.now(UTC)),
                     description="كشفت شركة إنفيديا اليوم عن شريحة جديدة لمراكز البيانات.")])
    env = {**os.environ, "PYTHONPATH": str(REPO), "TRACKER_TELEGRAM_TOKEN": token}
    env.pop("TRACKER_DATABASE_URL", None)

    def history() -> list[str]:
        answer = httpx.post(f"{emulator.url}/getUpdatesHistory", json={"token": token}).json()
        return [h["message"]["text"] for h in answer["result"]
                if str(h.get("message", {}).get("chat_id")) == CHAT]

    with FeedServer() as feeds:
        feeds.add("/f.xml", body, content_type="application/rss+xml")
        cfg = _config(tmp_path, feeds.url("/f.xml"), port, _free_port())
        log_path = tmp_path / "daemon.log"
        with log_path.open("w") as log, subprocess.Popen(
                [sys.executable, "-m", "tracker", "run", "--config", str(cfg)], cwd=tmp_path,
                env=env, stdout=log, stderr=subprocess.STDOUT) as proc:
            try:
                assert _wait(lambda: len(history()) >= 1, timeout=40), log_path.read_text()
                assert _wait(lambda: any(c["method"] == "getUpdates"
                                         for c in emulator.calls()))
                assert proc.poll() is None
            finally:
                proc.terminate()
                proc.wait(timeout=20)
    calls = emulator.calls()
    assert [c for c in calls if c["violation"]] == []
    refused = [c["at"] for c in calls if c["chat"] == CHAT and c["status"] == 429]
    sent = [c["at"] for c in calls if c["chat"] == CHAT and c["method"] == "sendMessage"
            and c["status"] == 200]
    assert len(refused) == 1 and len(sent) == 1 and sent[0] >= refused[0] + 2.0
    assert len(history()) == 1 and "إنفيديا" in history()[0]
    text = log_path.read_text(encoding="utf-8")
    assert token not in text and token.split(":")[1] not in text
    assert "Traceback" not in text, text[-3000:]
    assert len([line for line in text.splitlines() if "telegram_menu_failed" in line]) == 1
