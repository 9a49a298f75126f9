"""A second build of a course while one runs waits for it, says so, and then takes the
first build's results from the cache instead of repeating its work."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from clxtest import TWO_TOPICS_SPEC, notebook, write_tree


def test_a_second_build_waits_and_reuses_the_first(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "course",
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m/topic_1_alpha/slides_alpha.py": notebook(
                "A", "A", "import time\ntime.sleep(6)\nprint('a')"
            ),
            "slides/m/topic_2_beta/slides_beta.py": notebook("B", "B", "print('b')"),
        },
    )
    spec = root / "course-specs" / "c.xml"
    cmd = [sys.executable, "-m", "clx.cli.main", "build", str(spec), "--lang", "de"]
    first = subprocess.Popen(
        [*cmd, "--output", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not list((root / ".clx").glob("logs/*.log")) and time.monotonic() < deadline:
            assert first.poll() is None
            time.sleep(0.1)  # the first build has its workers running
        second = subprocess.run(
            [*cmd, "--output", "json"], capture_output=True, text=True, timeout=240
        )
        out, err = first.communicate(timeout=240)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert json.loads(out)["jobs"]["notebook"] == {"succeeded": 2}
    assert second.returncode == 0, second.stderr
    [line] = [x for x in second.stderr.splitlines() if "another build of this course" in x]
    assert f"(pid {first.pid}" in line and "waiting" in line, line
    assert json.loads(second.stdout)["jobs"]["notebook"] == {"cached": 2}, second.stderr
