"""The one exception tree of tracker, caught at the boundaries.

::

    TrackerError                  anything tracker raises on purpose
    ├── ConfigError               a config file is missing or invalid (file, key, problem)
    ├── FeedError                 one feed could not be polled; the cycle goes on with the others
    │   ├── FetchError            transport or HTTP failure (kind: timeout, http_NNN, too_large…)
    │   └── ParseError            the body is not a feed we can read
    ├── StoreError                the database refused or is unreachable
    └── DeliveryError             an alert could not be delivered (after its retries)

A boundary (the CLI, the scheduler job of one feed, the sender of one message) catches the
narrowest class it can handle, records it, and carries on with the rest.
"""

from __future__ import annotations


class TrackerError(Exception):
    """Base of every error tracker raises on purpose."""


class ConfigError(TrackerError):
    """A config file is invalid: names the file, the key and the problem."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")


class FeedError(TrackerError):
    """One feed failed; ``kind`` is a stable, short reason used in logs and metrics."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


class FetchError(FeedError):
    """The feed could not be fetched (timeout, HTTP error, body too large, network)."""


class ParseError(FeedError):
    """The feed was fetched but its body is not a readable feed."""


class StoreError(TrackerError):
    """The database refused an operation or cannot be reached."""


class DeliveryError(TrackerError):
    """An alert could not be delivered."""
