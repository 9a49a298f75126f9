"""Save-to-updated latency of `clx build --watch` with warm workers.

Builds a generated 20-notebook course in watch mode, then edits one notebook several
times and measures from the save until every output of that notebook holds the new
content. The last line is `name=value` pairs.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gencourse import make_course, notebook_source  # noqa: E402

EDITS = 5


def main() -> None:
    clx = Path(sys.executable).parent / "clx"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        spec = make_course(root, topics=20)
        proc = subprocess.Popen([str(clx), "build", str(spec), "--watch"],
                                stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")),
                         daemon=True).start()
        try:
            t0 = time.perf_counter()
            while not any(" job(s) run, " in line for line in lines):
                if proc.poll() is not None or time.perf_counter() - t0 > 300:
                    sys.exit("watch did not start:\n" + "".join(lines))
                time.sleep(0.1)
            initial = time.perf_counter() - t0
            source = next(root.glob("slides/*/topic_0007_*/slides_*.py"))
            outputs = sorted(p for p in (root / "output").rglob("08 * 7.*")
                             if p.suffix in (".html", ".ipynb", ".py")
                             and "Code-Along" not in p.parts)
            latencies = []
            for i in range(EDITS):
                marker = f"edit_marker_{i}"
                text = notebook_source(7) + f"\n# %%\nprint('{marker}')\n"
                time.sleep(0.5)
                t1 = time.perf_counter()
                source.write_text(text, encoding="utf-8")
                while not all(marker in p.read_text(encoding="utf-8") for p in outputs):
                    if time.perf_counter() - t1 > 60:
                        stale = [str(p) for p in outputs if marker not in p.read_text()]
                        sys.exit("outputs not updated:\n" + "".join(lines[-5:]) + "\n".join(stale))
                    time.sleep(0.02)
                latencies.append(time.perf_counter() - t1)
                print(f"edit {i + 1}: {latencies[-1]:.2f} s")
        finally:
            os.kill(proc.pid, signal.SIGINT)
            proc.wait(timeout=60)
    print(f"outputs_checked={len(outputs)} initial_build_s={initial:.1f} "
          f"save_to_updated_median_s={statistics.median(latencies):.2f} "
          f"save_to_updated_max_s={max(latencies):.2f}")


if __name__ == "__main__":
    main()
