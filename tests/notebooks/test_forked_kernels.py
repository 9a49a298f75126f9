"""Kernels forked from the zygote behave like freshly started ones."""

from __future__ import annotations

import re

import psutil

from clx.course.variants import Format, Kind, Variant
from clx.notebooks import NotebookSource, render_language

from .conftest import SETTINGS

SOURCE = """# %%
import os, random, subprocess, sys
print("CWD-HAS-HELPER", os.path.exists("helper_mod.py"))
print("CHILD", subprocess.run(["echo", "child-ok"], capture_output=True, text=True).stdout)
print("RANDOM", random.random())
print("PPID-IS-ZYGOTE", "zygote" in open(f"/proc/{os.getppid()}/cmdline").read())
print("LEAK", "leaked_name" in globals())

# %%
leaked_name = 1
import helper_mod
print("HELPER", helper_mod.VALUE)
"""


def run(executor):
    src = NotebookSource(
        path="slides_fork.py",
        text=SOURCE,
        prog_lang="python",
        topic_files={"helper_mod.py": b"VALUE = 42\n"},
    )
    v = Variant("en", Format.HTML, Kind.COMPLETED)
    result = render_language(src, "en", [v], "01 Fork", SETTINGS, executor)
    assert not result.failed, result.problems
    return result.outputs[v].decode("utf-8")


def test_forked_kernels_are_fresh_isolated_processes(executor) -> None:
    first, second = run(executor), run(executor)
    for html in (first, second):
        assert "CWD-HAS-HELPER True" in html
        assert "CHILD child-ok" in html  # SIGCHLD is back to default: subprocess works
        assert "PPID-IS-ZYGOTE True" in html
        assert "LEAK False" in html  # nothing survives from the previous notebook
        assert "HELPER 42" in html
    rnd = [re.search(r"RANDOM (0\.\d+)", h).group(1) for h in (first, second)]
    assert rnd[0] != rnd[1], "each kernel must reseed its random state"


def test_zygote_and_kernels_die_with_the_pool() -> None:
    from clx.notebooks import Executor

    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}  # e.g. the session executor
    with Executor() as ex:
        ex.warm("python3")
        run(ex)
        tree = [p for p in me.children(recursive=True) if p.pid not in before]
        assert any("zygote.py" in " ".join(p.cmdline()) for p in tree)
    gone, alive = psutil.wait_procs(tree, timeout=5)
    assert not alive, [p.pid for p in alive]


def test_a_package_installed_under_a_running_fork_server_replaces_it(tmp_path, monkeypatch):
    # A long-lived worker (watch mode) must not fork kernels with a module version in
    # memory that the build no longer keys them by.
    import os
    import sys

    from clx.notebooks.kernels import KernelPool

    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    with KernelPool(root=tmp_path / "k", spares=1) as pool:
        first = pool.take("python3")
        first.wait_ready(60)
        zygote = pool._zygotes[sys.executable]
        assert zygote._proc is not None and not zygote.stale()
        before = zygote._proc.pid
        pool.discard(first)
        (site / "clx_new_package.py").write_text("VALUE = 2\n")  # what pip install does
        assert zygote.stale()
        second = pool.take("python3")
        second.wait_ready(60)
        assert zygote._proc is not None and zygote._proc.pid != before
        assert psutil.Process(second.pid).ppid() == zygote._proc.pid  # forked by the new one
        assert not psutil.pid_exists(before) or psutil.Process(before).status() == "zombie"
        pool.discard(second)


def test_kernels_start_the_usual_way_when_the_fork_server_cannot(tmp_path, monkeypatch):
    # e.g. an ipykernel whose modules the fork server does not know: slower, not broken
    import clx.notebooks.forked as forked
    from clx.notebooks.kernels import KernelPool

    broken = tmp_path / "zygote.py"
    broken.write_text("import sys\nsys.stderr.write('clx-test: no such module\\n')\nsys.exit(1)\n")
    monkeypatch.setattr(forked, "ZYGOTE_SCRIPT", broken)
    with KernelPool(root=tmp_path / "k", spares=0) as pool:
        kernel = pool.take("python3")
        kernel.wait_ready(60)
        assert "zygote" not in " ".join(psutil.Process(kernel.pid).cmdline())
        assert psutil.Process(kernel.pid).ppid() != 1
        [zygote] = pool._zygotes.values()
        assert "clx-test: no such module" in zygote.broken
        pool.discard(kernel)


def test_a_fork_server_replaced_while_it_starts_hands_out_the_new_one(tmp_path, monkeypatch):
    # The first fork server of a worker imports the preload list as it starts; when a
    # module there starts a thread the server is replaced at once, and the kernel must
    # come from the replacement (the first one exited: its answer would be EOF).
    import os
    import sys

    from clx.notebooks.forked import Zygote

    site = tmp_path / "site"
    site.mkdir()
    (site / "clx_starts_thread.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
    )
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    zygote = Zygote(sys.executable, dict(os.environ))
    zygote._wanted = {"clx_starts_thread": None, "yaml": None}  # asked for before it ran
    try:
        process, present = zygote.spawn(
            ["-c", "import time; time.sleep(30)"],
            str(tmp_path),
            dict(os.environ),
            str(tmp_path / "stderr.log"),
        )
        assert process.pid > 0 and zygote._proc is not None and zygote._proc.poll() is None
        assert "clx_starts_thread" not in zygote.loaded and "yaml" in zygote.loaded
    finally:
        zygote.close()
