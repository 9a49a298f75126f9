"""What the live page costs a build: the same build with the page open in Chromium and
without, alternating in one run, and how soon a finished job shows on the page.

A generated course of NOTEBOOKS notebooks is built with ``--ignore-cache`` (so every
build runs every job) 2 x PAIRS times, alternating without / with ``--serve`` and a
headless Chromium on the page; the overhead is the median over the pairs of with/without
(neighbouring builds see the same machine load). Goal: at most 5 % longer with the page
open, a finished job on the page within 0.5 s. The last line is `name=value` pairs.

    python bench/live_page.py [NOTEBOOKS] [PAIRS]
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
from gencourse import make_course  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from clx.diagrams.drawio_page import CHROMIUM_FLAGS  # noqa: E402


def build(clx: Path, spec: Path, page=None) -> tuple[float, list[float]]:
    """Wall seconds of one build; with ``page``, also each job's finish-to-page latency."""
    args = [str(clx), "build", str(spec), "--ignore-cache", "--workers", "2"]
    if page is not None:
        args += ["--serve", "--port", "0"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    latencies: list[float] = []
    if page is not None:
        url = None
        while url is None and proc.poll() is None:
            url = next(
                (m.group(1) for ln in list(lines) if (m := re.search(r"live page at (\S+)", ln))),
                None,
            )
            time.sleep(0.01)
        if url is None:
            sys.exit("the build printed no live page URL:\n" + "".join(lines))
        page.goto(url)
    code = proc.wait()
    wall = time.perf_counter() - t0
    reader.join(5)
    if code not in (0, 1):
        sys.exit(f"build failed with exit status {code}:\n" + "".join(lines))
    if page is not None:
        page.wait_for_function(
            "document.querySelector('#connection').textContent.includes('ended')", timeout=30_000
        )
        for item in page.evaluate("window.clxSeen").values():
            if item["finished_at"]:
                finished = datetime.fromisoformat(item["finished_at"].replace("Z", "+00:00"))
                latencies.append(item["received"] / 1000 - finished.timestamp())
        page.goto("about:blank")
    return wall, latencies


def main() -> None:
    notebooks = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    clx = Path(sys.executable).parent / "clx"
    without: list[float] = []
    with_page: list[float] = []
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        spec = make_course(Path(tmp), topics=notebooks)
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=list(CHROMIUM_FLAGS)
        )
        page = browser.new_page()
        build(clx, spec)  # warm-up: page cache, kernels' imports
        for i in range(pairs):
            order = [None, page] if i % 2 == 0 else [page, None]
            for p in order:
                wall, lat = build(clx, spec, p)
                (without if p is None else with_page).append(wall)
                latencies += lat
                print(f"{'with page   ' if p else 'without page'} {wall:6.2f} s", flush=True)
        browser.close()
    # The machine's load drifts between pairs: compare each build with its neighbour.
    ratios = [w / o for w, o in zip(with_page, without, strict=True)]
    a, b = statistics.median(without), statistics.median(with_page)
    print(
        f"notebooks={notebooks} pairs={pairs} without_s={a:.2f} with_page_s={b:.2f} "
        f"overhead_pct={100 * (statistics.median(ratios) - 1):.1f} "
        f"latency_median_s={statistics.median(latencies):.3f} "
        f"latency_max_s={max(latencies):.3f} jobs_seen={len(latencies)}"
    )


if __name__ == "__main__":
    main()
