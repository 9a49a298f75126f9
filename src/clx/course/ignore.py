"""Ignore rules, tested on path components relative to the course root only.

The rules as authors read them: docs/course-reference.md#ignore-rules.
"""

from __future__ import annotations

IGNORED_DIRS = frozenset({
    "__pycache__", ".git", ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache", ".tox",
    ".venv", ".vs", ".vscode", ".idea", "build", "dist", ".cargo", "target", "out",
    "CMakeFiles", "bin", "obj", "localdata",
})
IGNORED_DIR_PARTS = (".egg-info", "cmake-build-", ".bkp", ".bak")
IGNORED_FILE_SUFFIXES = (".keras", ".bkp")
DIAGRAM_SOURCE_DIRS = frozenset({"pu", "drawio"})  # skipped in dir-group copies only


def ignored_dir(name: str) -> bool:
    return name in IGNORED_DIRS or any(p in name for p in IGNORED_DIR_PARTS)


def ignored_file(name: str) -> bool:
    return name.endswith(IGNORED_FILE_SUFFIXES) or name.startswith(".~")
