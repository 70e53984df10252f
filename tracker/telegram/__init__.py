"""Telegram edge: the bot people talk to, and the sender that delivers the outbox.

Modules, one job each:

* :mod:`~tracker.telegram.sender` — ``TelegramNotifier`` (outbox ``Notifier``);
* :mod:`~tracker.telegram.botclient` — ``make_bot``: the PTB bot it sends with, its settings;
* :mod:`~tracker.telegram.transport` — ``LeanRequest``: keep-alive HTTP/1.1 for the sender;
* :mod:`~tracker.telegram.split` — ``split_html``: long Telegram HTML into ≤ 4096-char parts;
* :mod:`~tracker.telegram.digest` — ``build_digest``: the text of a digest (pure);
* :mod:`~tracker.telegram.link` — ``TelegramLink``: is the Bot API reachable, retry with backoff;
* :mod:`~tracker.telegram.ports` — the Protocols through which it reads and writes the store;
* :mod:`~tracker.telegram.handlers` — what each command does;
* :mod:`~tracker.telegram.operator` — the texts of the operators' /stats and /feeds (pure);
* :mod:`~tracker.telegram.buttons` — what each button tap does (edits in place);
* :mod:`~tracker.telegram.keyboards` — the inline keyboards and rule labels (pure);
* :mod:`~tracker.telegram.bot` — ``build_application`` and starting/stopping it in a daemon;
* :mod:`~tracker.telegram.texts` — every string the bot says, in Arabic and English.

Nothing here runs at import time; the daemon builds the bot and passes it in. Nothing here
imports ``tracker.store``: the app wires :class:`tracker.store.botport.StoreForBot` in.
"""

from __future__ import annotations
