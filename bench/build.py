"""Cold build of a generated course of 20 Python notebooks (all 14 variants each).

Cold = a fresh course folder: no cache, no running workers. Prints wall seconds and
seconds per notebook; the last line is `name=value` pairs.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gencourse import make_course  # noqa: E402

NOTEBOOKS = 20


def main() -> None:
    clx = Path(sys.executable).parent / "clx"
    with tempfile.TemporaryDirectory() as tmp:
        spec = make_course(Path(tmp), topics=NOTEBOOKS)
        t0 = time.perf_counter()
        r = subprocess.run([str(clx), "build", str(spec)], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        # the summary line, not the list of output trees after it
        lines = r.stderr.strip().splitlines()
        print(next((line for line in reversed(lines) if line.startswith("build ")), lines[-1]))
        if r.returncode != 0:
            sys.exit(f"build failed:\n{r.stderr}")
    print(f"notebooks={NOTEBOOKS} wall_seconds={wall:.2f} "
          f"seconds_per_notebook={wall / NOTEBOOKS:.3f}")


if __name__ == "__main__":
    main()
