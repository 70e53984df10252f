"""The analyst's desk: a Starlette app (Jinja2 pages, /healthz, /metrics) served by uvicorn.

``app.build_app`` makes the ASGI app from a :class:`~tracker.web.data.DeskData` and a
:class:`~tracker.web.data.DeskContext`; ``serve`` runs it in the daemon's event loop or alone.
"""
