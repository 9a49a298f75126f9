"""One build of a course at a time: a second one waits for the first, and says so.

Two builds of one course side by side would run every job twice and fight over the
same output files. The lock is an ``flock`` on ``.clx/build.lock``, so it is exact (no
window between "is one running?" and "now I am") and a killed build releases it at once.
Because every result is cached as its job finishes, the waiting build then answers what
the first one built from the cache and runs only what is left.
Watch mode does not take the lock: it runs for hours, and its rebuilds are its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_NAME = "build.lock"


@contextlib.contextmanager
def one_build_at_a_time(state_dir: Path, say: Callable[[str], None]) -> Iterator[None]:
    """Hold the course's build lock while inside; if another build holds it, ``say`` so
    (naming its process) and wait for it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            say(
                f"another build of this course is running (pid {holder}): waiting for it to "
                "finish, then its results come from the cache"
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
