"""Failures are never silent: reported with file, variant and line; exit status 1 or 2."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from clxtest import write_tree

SPEC = """<course>
  <name><de>Kurs</de><en>Course</en></name>
  <prog-lang>python</prog-lang>
  <sections><section><name><de>Teil</de><en>Part</en></name>
    <topics><topic>good</topic><topic>bad</topic>{extra}</topics></section></sections>
</course>
"""

GOOD = """# j2 from 'macros.j2' import header
# {{ header("Gut", "Good") }}

# %%
print(6 * 7)
"""

BAD = """# j2 from 'macros.j2' import header
# {{ header("Schlecht", "Bad") }}

# %%
x = 1

# %%
y = 2
z = y / 0
"""


def clx(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clx.cli.main", *args],
                          capture_output=True, text=True, timeout=600, **kw)


def make(tmp_path: Path, extra: str = "", files: dict | None = None) -> Path:
    root = write_tree(tmp_path / "course", {
        "course-specs/c.xml": SPEC.format(extra=extra),
        "slides/m_100/topic_100_good/slides_good.py": GOOD,
        "slides/m_100/topic_200_bad/slides_bad.py": BAD,
        "slides/m_100/topic_200_bad/data.csv": "a\n",
        **(files or {}),
    })
    return root / "course-specs" / "c.xml"


def test_failing_cell_builds_the_rest_and_exits_1(tmp_path: Path) -> None:
    spec = make(tmp_path)
    out = tmp_path / "out"
    # an earlier build left a file where the failing variant would go
    stale = out / "public/De/Kurs/Folien/Html/Completed/Teil/02 Schlecht.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("stale")
    r = clx("build", str(spec), "--output-dir", str(out))
    assert r.returncode == 1, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert errors, r.stderr
    assert any(
        "slides/m_100/topic_200_bad/slides_bad.py:9" in e and "ZeroDivisionError" in e
        and "de/completed/html" in e for e in errors
    ), r.stderr
    # everything else was built
    assert (out / "public/De/Kurs/Folien/Html/Completed/Teil/01 Gut.html").is_file()
    assert (out / "public/De/Kurs/Folien/Notebooks/Completed/Teil/02 Schlecht.ipynb").is_file()
    assert (out / "public/En/Course/Slides/Html/Code-Along/Part/02 Bad.html").is_file()
    assert (out / "public/De/Kurs/Folien/Html/Completed/Teil/data.csv").is_file()
    assert not stale.exists(), "a failed variant must not leave a stale file"
    assert not (out / "speaker/En/Course/Slides/Html/Speaker/Part/02 Bad.html").exists()


def test_missing_topic_exits_2_before_any_work(tmp_path: Path) -> None:
    spec = make(tmp_path, extra="<topic>nowhere</topic>")
    r = clx("build", str(spec), "--output-dir", str(tmp_path / "out"))
    assert r.returncode == 2
    assert "Topic not found: nowhere" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (spec.parent.parent / ".clx").exists()
    assert not (tmp_path / "out").exists()


def test_ctrl_c_leaves_no_process_behind(tmp_path: Path) -> None:
    slow = GOOD + "\n# %%\nimport time\ntime.sleep(60)\n"
    spec = make(tmp_path, files={"slides/m_100/topic_100_good/slides_good.py": slow,
                                 "slides/m_100/topic_200_bad/slides_bad.py": GOOD})
    proc = subprocess.Popen([sys.executable, "-m", "clx.cli.main", "build", str(spec),
                             "--output-dir", str(tmp_path / "out")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    parent = psutil.Process(proc.pid)
    seen: dict[int, psutil.Process] = {}
    deadline = time.monotonic() + 120
    # wait until the workers run kernels (a python kernel process below a worker)
    while time.monotonic() < deadline:
        for c in parent.children(recursive=True):
            seen[c.pid] = c
        if any("zygote" in " ".join(_cmdline(c)) or "ipykernel" in " ".join(_cmdline(c))
               for c in seen.values()):
            break
        time.sleep(0.2)
    else:
        proc.kill()
        raise AssertionError("no kernel started")
    time.sleep(1.0)
    for c in parent.children(recursive=True):
        seen[c.pid] = c
    os.kill(proc.pid, signal.SIGINT)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    time.sleep(0.5)
    alive = [p for p in seen.values() if _alive(p)]
    assert not alive, [(p.pid, _cmdline(p)) for p in alive]


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
