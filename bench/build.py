"""Cold build of a generated course of 20 Python notebooks (all 14 variants each).

Cold = a fresh course folder: no cache, no running workers. Prints wall seconds and
seconds per notebook; the last line is `name=value` pairs.

``--engine postgresql`` builds the same course twice in one run, each in a fresh folder:
through SQLite as above, then through a PostgreSQL queue (``--url``, else a throwaway
local server) with ``--local-workers 0`` and the workers in another process tree
(``clx worker``, started together with the build, so both builds start cold). It prints
both wall times and their ratio (goal: PostgreSQL within 15 % of SQLite).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gencourse import make_course  # noqa: E402

NOTEBOOKS = 20
CLX = Path(sys.executable).parent / "clx"


def build_sqlite(root: Path) -> float:
    spec = make_course(root, topics=NOTEBOOKS)
    t0 = time.perf_counter()
    r = subprocess.run([str(CLX), "build", str(spec)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"build failed:\n{r.stderr}")
    print("sqlite:", _summary(r.stderr))
    return wall


def _summary(stderr: str) -> str:
    """The report's summary line, not the list of output trees after it."""
    lines = stderr.strip().splitlines()
    return next((line for line in reversed(lines) if line.startswith("build ")), lines[-1])


def build_postgres(root: Path, url: str, workers: int) -> float:
    spec = make_course(root, topics=NOTEBOOKS)
    env = dict(os.environ, CLX_QUEUE_URL=url)
    t0 = time.perf_counter()
    pool = subprocess.Popen(
        [
            str(CLX),
            "worker",
            "--kinds",
            "notebook",
            "--count",
            str(workers),
            "--work-dir",
            str(root / "worker-host"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        r = subprocess.run(
            [str(CLX), "build", str(spec), "--local-workers", "0"],
            capture_output=True,
            text=True,
            env=env,
        )
        wall = time.perf_counter() - t0
    finally:
        pool.send_signal(signal.SIGTERM)
        try:
            pool.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(pool.pid, signal.SIGKILL)
    if r.returncode != 0:
        sys.exit(f"build through PostgreSQL failed:\n{r.stderr}")
    print("postgresql:", _summary(r.stderr))
    return wall


@contextlib.contextmanager
def server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from pgserver import running_server

    with running_server() as s:
        yield s.url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--url", help="PostgreSQL URL (default: a throwaway local server)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wall = build_sqlite(Path(tmp) / "sqlite")
        if a.engine == "sqlite":
            print(
                f"notebooks={NOTEBOOKS} wall_seconds={wall:.2f} "
                f"seconds_per_notebook={wall / NOTEBOOKS:.3f}"
            )
            return
        with server(a.url) as url:
            pg = build_postgres(Path(tmp) / "postgresql", url, workers=os.cpu_count() or 1)
    print(f"sqlite: {wall:.2f} s, postgresql with remote workers: {pg:.2f} s")
    print(
        f"notebooks={NOTEBOOKS} sqlite_wall_seconds={wall:.2f} "
        f"postgresql_wall_seconds={pg:.2f} ratio={pg / wall:.3f}"
    )


if __name__ == "__main__":
    main()
