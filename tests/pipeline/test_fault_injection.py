"""Fault injection: workers, a kernel, the PlantUML JVM and Chromium are SIGKILLed while a
course builds. The outputs must be byte-identical to an undisturbed build, no process of
the build may outlive it (counted from the tree sampled during the build), and the report
must list the retries."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from clxtest import notebook, write_tree

DECKS = 20
PUML = "@startuml\nAlice -> Bob: hello {n}\n@enduml\n"
DRAWIO = (
    '<mxfile host="clx-tests"><diagram id="p0" name="Seite 1"><mxGraphModel><root>'
    '<mxCell id="0"/><mxCell id="1" parent="0"/><mxCell id="2" value="Box {n}" '
    'style="rounded=0;html=1;fillColor=#FF0000;" vertex="1" parent="1">'
    '<mxGeometry x="40" y="40" width="120" height="60" as="geometry"/></mxCell>'
    "</root></mxGraphModel></diagram></mxfile>\n"
)


def make_course(root: Path) -> Path:
    topics = "".join(f"<topic>t{n:02d}</topic>" for n in range(DECKS))
    files: dict[str, str] = {
        "course-specs/c.xml": (
            "<course><name><de>Kurs</de><en>Course</en></name><prog-lang>python</prog-lang>"
            "<sections><section><name><de>Teil</de><en>Part</en></name>"
            f"<topics>{topics}</topics></section></sections></course>\n"
        ),
    }
    for n in range(DECKS):
        base = f"slides/m/topic_{n:03d}_t{n:02d}"
        code = f"import time\ntime.sleep(0.4)\nprint({n} * {n})"
        files[f"{base}/slides_t{n:02d}.py"] = notebook(f"D{n}", f"E{n}", code)
        if n % 4 == 1:
            files[f"{base}/pu/seq{n}.pu"] = PUML.format(n=n)
        if n % 4 == 3:
            files[f"{base}/drawio/box{n}.drawio"] = DRAWIO.format(n=n)
    write_tree(root, files)
    return root / "course-specs" / "c.xml"


def build(spec: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "clx.cli.main",
        "build",
        str(spec),
        "--output-dir",
        str(out),
        "-q",
        *extra,
    ]


def outputs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def _cmd(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return ""


def category(p: psutil.Process, tree: dict[int, psutil.Process]) -> str | None:
    cmd = _cmd(p)
    try:
        parent = tree.get(p.ppid())
    except psutil.Error:
        return None
    if "clx.workers" in cmd:  # a notebook worker: busy all through the build
        return "worker" if "--kinds notebook" in cmd else None
    if (parent is not None and "zygote" in _cmd(parent)) or "ipykernel_launcher" in cmd:
        return "kernel"
    if "java" in p.name() and "plantuml" in cmd.lower():
        return "jvm"
    if ("chrom" in p.name() or "headless_shell" in p.name()) and (
        parent is None or "chrom" not in parent.name()
    ):
        return "chromium"
    return None


class Chaos(threading.Thread):
    """Samples the build's process tree and SIGKILLs one process of each planned kind."""

    PLAN = ("worker", "kernel", "jvm", "chromium", "kernel", "worker")

    def __init__(self, pid: int, out: Path) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.out = out
        self.seen: dict[int, psutil.Process] = {}
        self.kills: list[str] = []
        self.done = threading.Event()

    def sample(self) -> dict[int, psutil.Process]:
        try:
            tree = {c.pid: c for c in psutil.Process(self.pid).children(recursive=True)}
        except psutil.Error:
            return {}
        self.seen.update(tree)
        return tree

    def run(self) -> None:
        rng = random.Random(16)
        # Once decks are being written, every worker is busy: a kill now costs a job.
        while not self.done.is_set() and not any(self.out.rglob("*.html")):
            self.sample()
            time.sleep(0.05)
        for kind in self.PLAN:
            deadline = time.monotonic() + 15
            while not self.done.is_set() and time.monotonic() < deadline:
                tree = self.sample()
                found = [p for p in tree.values() if category(p, tree) == kind]
                if found:
                    time.sleep(rng.uniform(0.1, 0.8))  # a random moment
                    victim = rng.choice(found)
                    try:
                        victim.kill()
                        self.kills.append(kind)
                    except psutil.Error:
                        pass
                    break
                time.sleep(0.05)
        while not self.done.is_set():  # keep sampling: replacements count too
            self.sample()
            time.sleep(0.1)


def test_builds_survive_sigkills_byte_identical_and_without_orphans(tmp_path: Path) -> None:
    spec = make_course(tmp_path / "course")
    r = subprocess.run(build(spec, tmp_path / "calm"), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    calm = outputs(tmp_path / "calm")
    assert sum(name.endswith(".png") for name in calm) >= 4  # the diagrams were rendered

    report = tmp_path / "report.json"
    proc = subprocess.Popen(
        build(spec, tmp_path / "stormy", "--ignore-cache", "--json-report", str(report)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # a worker hung in its start after a kill is replaced in time for this test
        env={**os.environ, "CLX_WORKER_START_TIMEOUT": "45"},
    )
    chaos = Chaos(proc.pid, tmp_path / "stormy")
    chaos.start()
    try:
        # Below the suite's per-test timeout, so a hung build says where it hung.
        _, stderr = proc.communicate(timeout=200)
    except subprocess.TimeoutExpired:
        pytest.fail(hang_report(spec, proc, chaos))
    finally:
        chaos.done.set()
        chaos.join(timeout=10)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    print(f"kills survived: {len(chaos.kills)} ({', '.join(chaos.kills)})")
    assert {"worker", "kernel"} <= set(chaos.kills), chaos.kills

    stormy = outputs(tmp_path / "stormy")
    lost = sorted(set(calm) - set(stormy))
    differ = sorted(n for n in calm if n in stormy and calm[n] != stormy[n])
    print(f"outputs lost: {len(lost)}, differing: {len(differ)}")
    assert not lost and not differ and set(stormy) == set(calm), (lost, differ)

    deadline = time.monotonic() + 10
    orphans = list(chaos.seen.values())
    while orphans and time.monotonic() < deadline:
        orphans = [p for p in orphans if _alive(p)]
        time.sleep(0.2)
    print(f"orphans: {len(orphans)} of {len(chaos.seen)} processes seen")
    assert not orphans, [(p.pid, _cmd(p)) for p in orphans]

    doc = json.loads(report.read_text())
    conn = sqlite3.connect(tmp_path / "course/.clx/clx.db")
    retried = conn.execute("SELECT id, kind, attempts, state FROM jobs WHERE attempts > 1")
    assert doc.get("retries", {}).get("jobs", 0) >= 1, (doc.get("retries"), retried.fetchall())


def hang_report(spec: Path, proc: subprocess.Popen, chaos: Chaos) -> str:
    """What a build that does not end is doing: the queue, its processes, the ends of its
    workers' logs and of its own stderr."""
    status = subprocess.run([sys.executable, "-m", "clx.cli.main", "status", str(spec)],
                            capture_output=True, text=True, timeout=60)
    tree = chaos.sample()
    alive = "\n".join(f"  {pid} {_cmd(p)[:160]}" for pid, p in sorted(tree.items()))
    logs = []
    for log in sorted((spec.parents[1] / ".clx" / "logs").glob("*.log")):
        logs.append(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:]))
    proc.kill()
    _, stderr = proc.communicate(timeout=30)
    return (f"the build did not end (kills: {chaos.kills})\n{status.stdout}{status.stderr}\n"
            f"processes:\n{alive}\n" + "\n".join(logs) + f"\nbuild stderr:\n{stderr[-3000:]}")


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
