"""Processes started by notebook code do not outlive their kernel, also those started in
the background with a shell ``&`` or in a session of their own with ``setsid``."""

from __future__ import annotations

import time

import psutil

from clx.course.variants import Format, Kind, Variant
from clx.notebooks import NotebookSource, render_language

HEADER = '# j2 from "macros.j2" import header\n# {{ header("Kinder", "Children") }}\n\n'
CODE = """import subprocess
subprocess.run("sleep 4242.17 > /dev/null 2>&1 &", shell=True)
subprocess.run("setsid sleep 4242.18 > /dev/null 2>&1 < /dev/null &", shell=True)
subprocess.Popen(["setsid", "-f", "sleep", "4242.19"])
import time
time.sleep(0.5)
print("started")
"""
MARKS = {"4242.17", "4242.18", "4242.19"}


def sleepers() -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or []
        if len(cmd) == 2 and cmd[0].endswith("sleep") and cmd[1] in MARKS:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:  # killed, its new parent not waiting
                    found.append(p)
            except psutil.Error:
                pass
    return found


def test_background_and_setsid_children_die_with_the_kernel(executor, settings, read):
    assert not sleepers()
    src = NotebookSource(
        path="slides/m/topic_1_kids/slides_kids.py",
        text=HEADER + "# %%\n" + CODE,
        prog_lang="python",
    )
    variant = Variant("en", Format.HTML, Kind.COMPLETED)
    result = render_language(src, "en", [variant], "01 Children", settings, executor)
    assert "started" in read.by_label(result.outputs)["en/completed/html"].decode()
    deadline = time.monotonic() + 5
    while sleepers() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = sleepers()
    for p in left:
        p.kill()
    assert not left, [p.info["cmdline"] for p in left]


FORKING = """
import os, time
while True:  # a new detached child every few milliseconds, as a runaway cell might
    if os.fork() == 0:
        os.setsid()
        time.sleep(60)
        os._exit(0)
    time.sleep(0.003)
"""


def test_marked_processes_that_fork_while_being_killed_are_all_found() -> None:
    import os
    import subprocess
    import sys
    import time

    from clx.processes import MARK, _marked, kill_marked

    mark = f"clx-test-forker-{os.getpid()}"
    proc = subprocess.Popen([sys.executable, "-c", FORKING], env={**os.environ, MARK: mark})
    needle = f"\0{MARK}={mark}\0".encode()
    try:
        time.sleep(0.3)
        assert len(_marked(needle)) > 5
        assert kill_marked(mark) > 5
        assert _marked(needle) == []
    finally:
        proc.kill()
        proc.wait()
        kill_marked(mark)
