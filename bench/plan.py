"""How long `clx plan` takes on a generated course of 200 topics (target: under 1 s)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gencourse import make_course  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spec = make_course(Path(tmp), topics=200)
        clx = Path(sys.executable).parent / "clx"
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            r = subprocess.run([str(clx), "plan", str(spec)], capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if r.returncode != 0:
                sys.exit(f"clx plan failed:\n{r.stderr}")
        total = r.stdout.strip().splitlines()[-1].split(": ")[1]
        print(r.stdout.strip())
        print(f"topics=200 outputs={total} plan_seconds_best={min(times):.3f} "
              f"plan_seconds_median={sorted(times)[1]:.3f}")


if __name__ == "__main__":
    main()
