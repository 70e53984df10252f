"""The bot token never reaches a log line: message, keys and tracebacks are redacted at the
logging layer; the Telegram link reports its state once per change."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest
from telegram.error import InvalidToken, NetworkError

from tracker.logs import redact, setup_logging
from tracker.ops.health import HealthChecks, health_report
from tracker.telegram.link import OK, TOKEN_REJECTED, UNREACHABLE, TelegramLink

TOKEN = "123456:AAEsecret-part-of-the-token"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_token_is_redacted_from_messages_keys_and_tracebacks(
    capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    """Whatever carries the token — the message, a key, an exception — is redacted."""
    setup_logging("INFO", fmt, secrets=[TOKEN])
    log = logging.getLogger("tracker.test")
    try:
        try:
            raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
        except InvalidToken:
            log.exception("boom %s", TOKEN, extra={"url": f"https://x/bot{TOKEN}/getMe",
                                                   "tail": TOKEN.split(":")[1]})
    finally:
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err
    assert "InvalidToken" in err and "[redacted]" in err
    assert TOKEN not in err and TOKEN.split(":")[1] not in err


def test_redact_leaves_other_text_alone() -> None:
    """Only the secret goes; an empty secret changes nothing."""
    assert redact("id 123456 ok", [TOKEN, ""]) == "id 123456 ok"


async def test_link_goes_down_once_and_comes_back(caplog: pytest.LogCaptureFixture) -> None:
    """A refused token logs one line; the same failure again logs nothing; a success logs
    the recovery; three network failures in a row take it down mid-run."""
    answers: list[BaseException | None] = [InvalidToken("x"), InvalidToken("x"), None]

    async def probe() -> None:
        answer = answers.pop(0)
        if answer is not None:
            raise answer

    link = TelegramLink(probe)
    with caplog.at_level(logging.INFO):
        assert not await link.connect() and link.health() == TOKEN_REJECTED
        assert not await link.connect()
        assert await link.connect() and link.health() == OK
        link.trouble(NetworkError("refused"))
        link.trouble(NetworkError("refused"))
        assert link.available
        link.trouble(NetworkError("refused"))
        assert link.health() == UNREACHABLE
    names = [r.getMessage() for r in caplog.records]
    assert names == ["telegram_unavailable", "telegram_connected", "telegram_unavailable"]


async def test_healthz_names_a_failing_component() -> None:
    """A component that is not "ok" makes /healthz 503 and is listed by name."""
    checks = HealthChecks(lambda: True, lambda: True, lambda: None,
                          components=lambda: {"telegram": "unreachable"})
    status, body = await health_report(checks)
    assert status == 503 and body["failing"] == ["telegram"]
    assert body["telegram"] == "unreachable"
    ok = HealthChecks(lambda: True, lambda: True, lambda: None,
                      components=lambda: {"telegram": "ok"})
    assert (await health_report(ok))[0] == 200


async def test_link_retries_with_doubling_backoff_until_telegram_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Down at start: probes wait retry_first, then twice as long each time up to
    retry_max; the first success brings the link up, logged once each way."""
    failures = [NetworkError("refused")] * 5
    waits: list[float] = []

    async def probe() -> None:
        if failures:
            raise failures.pop()

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    link = TelegramLink(probe, retry_first=1.0, retry_max=4.0, sleep=sleep)
    with caplog.at_level(logging.INFO):
        task = asyncio.create_task(link.run())
        for _ in range(100):
            if link.available:
                break
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert link.available and link.attempts == 6
    assert waits == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert [r.getMessage() for r in caplog.records] == ["telegram_unavailable",
                                                        "telegram_connected"]
