"""Operating tracker: metrics, the health endpoint, systemd notification, feed health, OPML.

Every module here is built by the caller (the CLI or the daemon) and given what it needs;
nothing runs at import time. ``feedhealth`` and ``opml`` are pure; ``health`` and ``systemd``
touch sockets; ``metrics`` holds its own Prometheus registry.
"""
