"""Config files for tests that run the `tracker` command: a temporary SQLite database, the
shipped taxonomy and entities, the feeds given, and (unless told otherwise) one watchlist that
alerts on the console for everything."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, feeds: dict[str, str], *, model: str | None = None,
                 watch_all: bool = True) -> Path:
    """``tmp_path/tracker.toml`` polling ``feeds`` (name → URL); ``model`` sets
    ``[classifier] model``."""
    entries = "".join(f'\n[[feeds]]\nurl = "{url}"\nname = "{name}"\n'
                      for name, url in feeds.items())
    classifier = f'model = "{model}"\n' if model is not None else ""
    watch = ('\n[[watchlists]]\nname = "all"\nevents = []\nentities = []\n'
             'chats = ["console"]\n') if watch_all else ""
    path = tmp_path / "tracker.toml"
    path.write_text(f"""
[database]
url = "sqlite:///{tmp_path / 'tracker.db'}"
[classifier]
taxonomy = "{REPO / 'config' / 'taxonomy.toml'}"
entities = "{REPO / 'config' / 'entities.toml'}"
{classifier}{entries}{watch}""", encoding="utf-8")
    return path
