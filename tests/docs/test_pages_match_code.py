"""The hand-written pages name every key, field, tag and language the code knows.

These are the facts a reader looks up; when a helper adds one in the code and forgets
the page, this fails and names what is missing.
"""

from __future__ import annotations

from pathlib import Path

from clx.cli import config

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_clx_toml_key_is_documented() -> None:
    page = _page("configuration.md")
    missing = [key for key in config._KEYS if f"| `{key}` |" not in page]
    assert not missing, f"docs/configuration.md lacks a table row for: {missing}"
