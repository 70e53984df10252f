"""Safe by default: credentials off loopback, CSRF on every POST, CSP and friends.

Order of checks for one request (:class:`Guard`):

1. ``/healthz`` and ``/metrics`` pass (probes and scrapers carry no credentials);
2. without a token (a loopback bind) the ``Host`` must be a loopback name, so a page that
   rebinds its own name to 127.0.0.1 cannot read the desk; with a token, the request must
   carry it: ``Authorization: Bearer TOKEN`` or
   basic auth whose password is TOKEN (any user name); else 401 with a basic-auth challenge;
3. a POST must carry the ``desk_csrf`` cookie and, when it sends ``Origin``, come from this
   host; its handler then checks the form's ``csrf`` field against the cookie
   (:func:`csrf_refusal`, double submit; the cookie is SameSite=Strict and HttpOnly); else
   403.

Every response gets a Content-Security-Policy without any script source, ``nosniff``,
``frame-ancestors 'none'`` and a same-origin referrer policy. :func:`check_bind` refuses a
non-loopback address without a token before anything listens.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tracker.errors import ConfigError

CSRF_COOKIE = "desk_csrf"
CSRF_FIELD = "csrf"
OPEN_PATHS = ("/healthz", "/metrics")
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # no-referrer would make browsers send Origin: null
    "x-frame-options": "DENY",
}


def is_loopback(host: str) -> bool:
    """``127.0.0.0/8``, ``::1`` and ``localhost`` are loopback; anything else is not."""
    if host.strip("[]") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None, file: str, token_env: str) -> None:
    """Refuse to serve the desk on a non-loopback address without credentials."""
    if not is_loopback(host) and not token:
        raise ConfigError(file, "health.host", f"the web desk would listen on {host!r}, which "
                          f"is not a loopback address, without credentials: set ${token_env} "
                          "(or [web] enabled = false to serve only /healthz and /metrics)")


def _authorised(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return hmac.compare_digest(value.strip().encode(), token.encode())
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        _user, _, password = decoded.partition(":")
        return hmac.compare_digest(password.encode(), token.encode())
    return False


def csrf_token(request: Request) -> str:
    """The CSRF token of this client (its cookie's, else a new one set on the response)."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) < 20:
        token = request.state.new_csrf = getattr(request.state, "new_csrf", None) or \
            secrets.token_urlsafe(24)
    return token


class Guard:
    """The ASGI middleware applying the checks of the module docstring."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        refused = await self._refusal(request)
        if refused is not None:
            await _with_headers(refused, request)(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                for k, v in HEADERS.items():
                    headers.append((k.encode(), v.encode()))
                new = getattr(request.state, "new_csrf", None)
                if new:
                    headers.append((b"set-cookie", _cookie(new).encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)  # type: ignore[arg-type]

    async def _refusal(self, request: Request) -> Response | None:
        if request.url.path in OPEN_PATHS or request.url.path.startswith("/static/"):
            return None
        if not self.token and not is_loopback(_host_name(request.headers.get("host", ""))):
            # no credentials means a loopback bind: a page elsewhere that rebinds its own
            # name to 127.0.0.1 (DNS rebinding) must not read the desk through the browser
            return PlainTextResponse("this desk answers loopback host names only\n", 403)
        if self.token and not _authorised(request, self.token):
            return PlainTextResponse("credentials required\n", 401,
                                     {"www-authenticate": 'Basic realm="tracker desk"'})
        if request.method == "POST":
            origin = request.headers.get("origin")
            if origin and urlsplit(origin).netloc != request.headers.get("host"):
                return PlainTextResponse("cross-origin POST refused\n", 403)
            if not request.cookies.get(CSRF_COOKIE):
                return PlainTextResponse("missing CSRF token\n", 403)
        return None


def csrf_refusal(request: Request, sent: object) -> Response | None:
    """403 unless the form's ``csrf`` field equals the client's cookie (the POST handlers
    call this with the field; the Guard already refused a POST without the cookie)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not isinstance(sent, str) or \
            not hmac.compare_digest(sent.encode(), cookie.encode()):
        return PlainTextResponse("missing or wrong CSRF token\n", 403)
    return None


def _host_name(host: str) -> str:
    """The name part of a Host header (``[::1]:9464`` → ``::1``)."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _cookie(token: str) -> str:
    return f"{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"


def _with_headers(response: Response, request: Request) -> Response:
    for k, v in HEADERS.items():
        response.headers[k] = v
    return response


Handler = Callable[[Request], Awaitable[Response]]
