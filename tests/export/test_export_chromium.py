"""The HTML export in headless Chromium: right to left, no console errors, no network, and
nothing wider than a phone screen.

Chromium is driven over the DevTools protocol with a small standard-library WebSocket client
(no Playwright, no browser download, no extra test dependency). The test skips when
``/usr/bin/chromium`` is absent (Debian: ``apt-get install chromium``). The phone screenshot
is written to the test's tmp folder, and also to ``$TRACKER_EXPORT_SCREENSHOT_DIR`` when set,
to look at by eye; it never goes into git.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from export_fixtures import GENERATED_AT, TZ, WEEK

from tracker.export import render_export

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"
)


class DevTools:
    """The smallest DevTools-protocol client that works: one page, text frames, RFC 6455."""

    def __init__(self, ws_url: str, timeout: float = 30.0) -> None:
        url = urlsplit(ws_url)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def _exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            buf += chunk
        return buf

    def _send_text(self, text: str) -> None:
        payload = text.encode()
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _recv_message(self) -> dict[str, Any]:
        parts = []
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._exact(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._exact(8))
            data = self._exact(n)  # server frames are not masked
            if b0 & 0x0F in (0x9, 0xA):  # ping / pong: not part of a message
                continue
            parts.append(data)
            if b0 & 0x80:
                result: dict[str, Any] = json.loads(b"".join(parts))
                return result

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self._send_text(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = self._recv_message()
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for msg in self.events:
            if msg.get("method") == method:
                return msg
        while time.monotonic() < deadline:
            msg = self._recv_message()
            self.events.append(msg)
            if msg.get("method") == method:
                return msg
        raise TimeoutError(method)

    def evaluate(self, expression: str) -> Any:
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in res, res
        return res["result"]["value"]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def devtools(tmp_path: Path) -> Iterator[DevTools]:
    """A headless Chromium with no network features, and a DevTools client on its page."""
    profile = tmp_path / "profile"
    log = (tmp_path / "chromium.log").open("wb")
    proc = subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            "about:blank",
        ],
        stdout=log,
        stderr=log,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail(
                    "Chromium did not start: "
                    + (tmp_path / "chromium.log").read_text(errors="replace")[-2000:]
                )
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            targets = json.load(resp)
        page = next(t for t in targets if t["type"] == "page")
        client = DevTools(page["webSocketDebuggerUrl"])
        try:
            yield client
        finally:
            client.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


_ERROR_LEVELS = ("error", "assert", "warning")


def _errors(events: list[dict[str, Any]]) -> list[Any]:
    """Uncaught exceptions, console errors and warnings, and browser log errors (a CSP
    violation, a failed load) among the DevTools events."""
    out: list[Any] = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        thrown = method == "Runtime.exceptionThrown"
        console = method == "Runtime.consoleAPICalled" and params.get("type") in _ERROR_LEVELS
        if thrown or console:
            out.append(params)
        elif method == "Log.entryAdded" and params["entry"]["level"] in _ERROR_LEVELS:
            out.append(params["entry"])
    return out


PAGE_FACTS = """JSON.stringify({
  dir: document.documentElement.getAttribute("dir"),
  lang: document.documentElement.lang,
  direction: getComputedStyle(document.documentElement).direction,
  headlineDirection: getComputedStyle(document.querySelector("h3.headline")).direction,
  bdi: getComputedStyle(document.querySelector("h3.headline bdi")).unicodeBidi,
  dayGroups: [...document.querySelectorAll("svg.chart g.day")].map(g => g.dataset.day),
  legend: [...document.querySelectorAll(".legend li")].map(li => li.textContent),
  headlines: [...document.querySelectorAll("h3.headline")].map(h => h.textContent),
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  chartWidth: document.querySelector("svg.chart").getBoundingClientRect().width,
  firstHeadlineRight: document.querySelector("h3.headline").getBoundingClientRect().right,
  bodyRight: document.querySelector("main").getBoundingClientRect().right,
})"""


def test_html_renders_rtl_on_a_phone_without_errors(devtools, entries200, labels, tmp_path) -> None:
    """On a 412-pixel phone screen the page is right to left, fits the width, shows the
    chart with a bar group per day and every headline, logs no error and fetches nothing."""
    page = tmp_path / "week.html"
    page.write_bytes(
        render_export(
            "html", entries200, week=WEEK, tz=TZ, labels=labels, generated_at=GENERATED_AT
        )
    )
    for domain in ("Runtime", "Log", "Page", "Network"):
        devtools.call(f"{domain}.enable")
    devtools.call(
        "Emulation.setDeviceMetricsOverride",
        width=412,
        height=900,
        deviceScaleFactor=2,
        mobile=True,
    )
    devtools.call("Page.navigate", url=page.as_uri())
    devtools.wait_for("Page.loadEventFired")

    facts = json.loads(devtools.evaluate(PAGE_FACTS))
    assert (facts["dir"], facts["lang"], facts["direction"]) == ("rtl", "ar", "rtl")
    assert facts["headlineDirection"] == "rtl"
    assert facts["bdi"] == "isolate"
    assert len(facts["dayGroups"]) == 7
    assert len(facts["legend"]) == len({e.event.type for e in entries200})
    assert sorted(facts["headlines"]) == sorted(e.event.headline for e in entries200)
    assert facts["scrollWidth"] <= facts["innerWidth"], "the page scrolls sideways on a phone"
    assert facts["chartWidth"] <= facts["innerWidth"]
    # Right to left: the text of a headline starts at the right edge of the content.
    assert abs(facts["firstHeadlineRight"] - facts["bodyRight"]) < 40

    shot = devtools.call("Page.captureScreenshot", format="png")
    png = tmp_path / "export_phone.png"
    png.write_bytes(base64.b64decode(shot["data"]))
    deeper = devtools.call(
        "Page.captureScreenshot",
        format="png",
        captureBeyondViewport=True,
        clip={"x": 0, "y": 900, "width": 412, "height": 900, "scale": 1},
    )
    (tmp_path / "export_phone_2.png").write_bytes(base64.b64decode(deeper["data"]))
    if out := os.environ.get("TRACKER_EXPORT_SCREENSHOT_DIR"):
        for name in ("export_phone.png", "export_phone_2.png"):
            shutil.copy(tmp_path / name, Path(out) / name)
    assert png.read_bytes().startswith(b"\x89PNG")

    assert _errors(devtools.events) == []
    requested = [
        e["params"]["request"]["url"]
        for e in devtools.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert requested == [page.as_uri()], "the page fetched something besides itself"
