"""An httpx transport with one small connection pool per origin (RFC 6454 origin:
scheme, host, port).

Why: httpcore's single pool re-scans every pooled connection for every idle one each time a
request enters or leaves it, so with a hundred hosts kept alive the bookkeeping costs more
CPU than the HTTP itself. A pool per origin, sized to the per-host limit, keeps that work
tiny. Every https pool shares one TLS context (building one reads the CA bundle: ~60 ms).
"""

from __future__ import annotations

import ssl

import httpx

Origin = tuple[bytes, bytes, int | None]


class PerOriginTransport(httpx.AsyncBaseTransport):
    """Routes each request to the pool of its origin, creating pools on first use."""

    def __init__(self, *, per_origin: int, keepalive_expiry: float = 30.0) -> None:
        self._limits = httpx.Limits(
            max_connections=per_origin,
            max_keepalive_connections=per_origin,
            keepalive_expiry=keepalive_expiry,
        )
        self._tls: ssl.SSLContext | None = None
        self._pools: dict[Origin, httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin = (url.raw_scheme, url.raw_host, url.port)
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = httpx.AsyncHTTPTransport(
                verify=self._verify(url.scheme), limits=self._limits
            )
        return await pool.handle_async_request(request)

    def _verify(self, scheme: str) -> ssl.SSLContext | bool:
        if scheme != "https":
            return False  # a plain-http pool never does TLS: skip loading the CA bundle
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return self._tls

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()
