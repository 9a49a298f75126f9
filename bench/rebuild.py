"""Incremental builds of a generated 20-notebook course: cold, no-op, and restore.

Restore = the output folder deleted, everything restored from the cache. Each figure is
the wall time of one `clx build` command; the last line is `name=value` pairs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gencourse import make_course  # noqa: E402


def timed_build(clx: Path, spec: Path) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([str(clx), "build", str(spec)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"build failed:\n{r.stderr}")
    lines = r.stderr.strip().splitlines()
    # the summary (and what the cache did), not the list of output trees after it
    for line in lines:
        if line.startswith(("cache: ", "build ")):
            print(line)
    return wall


def main() -> None:
    clx = Path(sys.executable).parent / "clx"
    with tempfile.TemporaryDirectory() as tmp:
        spec = make_course(Path(tmp), topics=20)
        cold = timed_build(clx, spec)
        noop = timed_build(clx, spec)
        shutil.rmtree(Path(tmp) / "output")
        restore = timed_build(clx, spec)
    print(f"notebooks=20 cold_seconds={cold:.2f} noop_seconds={noop:.2f} "
          f"restore_seconds={restore:.2f}")


if __name__ == "__main__":
    main()
