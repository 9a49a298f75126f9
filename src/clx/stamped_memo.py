"""Answers that cost a subprocess, remembered in a JSON file under a ``stat`` stamp.

Which packages an interpreter has, which version a kernel or Chromium is: asking takes a
tenth of a second or more, the answer changes only when files are installed. So the
answer is kept with the ``stat`` of the files that would change (an interpreter's
``sys.path`` folders, a program), and an unchanged stamp answers without asking. Only a
shortcut: a missing or unreadable file just means asking again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def stat_stamp(paths: list[str]) -> list[list[Any]]:
    """Modification time, size and inode of each path (``None`` for one that is absent):
    what changes when a program or package is installed, upgraded or removed."""
    out: list[list[Any]] = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append([p, st.st_mtime_ns, st.st_size, st.st_ino])
        except OSError:
            out.append([p, None])
    return out


class StampedMemo:
    """Answers about environments, remembered in a JSON file with a stamp each; an
    answer whose stamp still matches is used without running anything."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._data: dict[str, Any] | None = None
        self._dirty = False

    def _entries(self) -> dict[str, Any]:
        if self._data is None:
            self._data = {}
            if self.path is not None:
                try:
                    loaded = json.loads(self.path.read_text(encoding="utf-8"))
                    self._data = loaded if isinstance(loaded, dict) else {}
                except (OSError, ValueError):
                    pass
        return self._data

    def get(self, key: str, compute: Callable[[], tuple[Any, list[str]]]) -> Any:
        """The remembered value for ``key`` if the stamp of its paths is unchanged, else
        ``compute()`` (value, paths to stamp), remembered."""
        entries = self._entries()
        entry = entries.get(key)
        if isinstance(entry, dict) and entry.get("stamp") == stat_stamp(entry.get("paths", [])):
            return entry["value"]
        value, paths = compute()
        entries[key] = {"paths": paths, "stamp": stat_stamp(paths), "value": value}
        self._dirty = True
        self.save()
        return value

    def forget(self, key: str) -> None:
        self._entries().pop(key, None)

    def save(self) -> None:
        if not self._dirty or self.path is None or self._data is None:
            return
        from clx.store import atomic_write

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(self._data, indent=1, sort_keys=True).encode())
        except OSError:
            pass  # only a memo: the next build asks again
        self._dirty = False
