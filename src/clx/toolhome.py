"""Where clx looks for the tools that are not Python packages, and where `clx setup` puts them.

A checkout's ``scripts/setup.sh`` installs them into the virtual environment itself
(``sys.prefix``); a ``pip``/``pipx`` install has no such step, so `clx setup` installs
them into a per-user tool folder laid out like a prefix (``node_modules/`` for npm
packages, ``share/`` for data files of pip packages). Lookups try ``$CLX_TOOLS`` (if
set), then ``sys.prefix``, then the per-user folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def user_tool_dir() -> Path:
    """``$CLX_TOOLS``, else ``$XDG_DATA_HOME/clx/tools`` (``~/.local/share/clx/tools``)."""
    explicit = os.environ.get("CLX_TOOLS")
    if explicit:
        return Path(explicit)
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "clx" / "tools"


def tool_prefixes() -> list[Path]:
    """The prefixes searched, in order, without duplicates."""
    out: list[Path] = []
    for p in (
        Path(os.environ["CLX_TOOLS"]) if os.environ.get("CLX_TOOLS") else None,
        Path(sys.prefix),
        user_tool_dir(),
    ):
        if p is not None and p not in out:
            out.append(p)
    return out


def first_with(relative: str | Path, prefixes: list[Path] | None = None) -> Path | None:
    """The first prefix holding ``relative`` (a file or folder), or None."""
    for p in prefixes or tool_prefixes():
        if (p / relative).exists():
            return p
    return None
