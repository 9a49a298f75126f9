"""Cold build of a generated course of 20 Python notebooks (all 14 variants each).

Cold = a fresh course folder: no cache, no running workers. Prints wall seconds and
seconds per notebook; the last line is `name=value` pairs.

``--engine postgresql`` builds the same course twice in one run, each in a fresh folder:
through SQLite as above, then through a PostgreSQL queue (``--url``, else a throwaway
local server) with ``--local-workers 0`` and the workers in another process tree
(``clx worker``, started together with the build, so both builds start cold). It prints
both wall times and their ratio (goal: PostgreSQL within 15 % of SQLite).

``--preload`` builds a course of 13 decks that import pandas and matplotlib (a plot as
inline PNG) twice, each cold in a fresh folder: first with no recorded preload list,
then with the list the first build recorded (``.clx/preload.json``, copied over), so
the kernel fork server imports pandas and matplotlib once per worker instead of every
kernel doing it. It prints both wall times, the kernel CPU seconds per execution (each
deck's last cell writes its kernel's CPU time to a file, showing nothing), the CPU of
the build's other processes (workers and fork servers, which now pay the imports), and
whether both builds wrote byte-identical outputs. pandas and matplotlib (pinned below)
go into a venv of their own under ``~/.cache/clx-bench``, made once, whose
``site-packages`` the builds get on ``PYTHONPATH`` (clx's own interpreter runs the
kernels, so nothing is installed into clx's venv).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gencourse import data_science_source, make_course  # noqa: E402

NOTEBOOKS = 20
CLX = Path(sys.executable).parent / "clx"


def build_sqlite(root: Path) -> float:
    spec = make_course(root, topics=NOTEBOOKS)
    t0 = time.perf_counter()
    r = subprocess.run([str(CLX), "build", str(spec)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"build failed:\n{r.stderr}")
    print("sqlite:", _summary(r.stderr))
    return wall


def _summary(stderr: str) -> str:
    """The report's summary line, not the list of output trees after it."""
    lines = stderr.strip().splitlines()
    return next((line for line in reversed(lines) if line.startswith("build ")), lines[-1])


def build_postgres(root: Path, url: str, workers: int) -> float:
    spec = make_course(root, topics=NOTEBOOKS)
    env = dict(os.environ, CLX_QUEUE_URL=url)
    t0 = time.perf_counter()
    pool = subprocess.Popen(
        [
            str(CLX),
            "worker",
            "--kinds",
            "notebook",
            "--count",
            str(workers),
            "--work-dir",
            str(root / "worker-host"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        r = subprocess.run(
            [str(CLX), "build", str(spec), "--local-workers", "0"],
            capture_output=True,
            text=True,
            env=env,
        )
        wall = time.perf_counter() - t0
    finally:
        pool.send_signal(signal.SIGTERM)
        try:
            pool.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(pool.pid, signal.SIGKILL)
    if r.returncode != 0:
        sys.exit(f"build through PostgreSQL failed:\n{r.stderr}")
    print("postgresql:", _summary(r.stderr))
    return wall


PRELOAD_DECKS = 13
# For Python 3.11 (clx's): numpy 2.5 needs 3.12.
COURSE_PACKAGES = ("numpy==2.4.6", "pandas==3.1.1", "matplotlib==3.11.2")
CACHE = Path.home() / ".cache" / "clx-bench"


def course_site_packages() -> Path:
    """A venv with the course's packages, made once (its name says what it holds)."""
    tag = "-".join(p.replace("==", "") for p in COURSE_PACKAGES)
    venv = CACHE / f"py{sys.version_info.major}{sys.version_info.minor}-{tag}"
    python = venv / "bin" / "python"
    if not (venv / "complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
        subprocess.run([*pip, *COURSE_PACKAGES], check=True)
        (venv / "complete").write_text("ok\n")
    out = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def build_data_course(root: Path, env: dict[str, str], preload_from: Path | None) -> dict:
    """One cold build; returns wall seconds, kernel CPU per execution, other CPU."""
    spec = make_course(root, topics=PRELOAD_DECKS, source=data_science_source)
    if preload_from is not None:
        (root / ".clx").mkdir(exist_ok=True)
        shutil.copy(preload_from, root / ".clx" / "preload.json")
    cpu_dir = root.parent / f"{root.name}-cpu"
    cpu_dir.mkdir()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run([str(CLX), "build", str(spec)], capture_output=True, text=True,
                       env={**env, "CLX_BENCH_CPU_DIR": str(cpu_dir)})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"build failed:\n{r.stderr}")
    print(f"{root.name}:", _summary(r.stderr))
    kernels = [float(f.read_text()) for f in cpu_dir.iterdir()]
    other = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"wall": wall, "kernel_cpu": sum(kernels) / len(kernels), "executions": len(kernels),
            "other_cpu": other}


def outputs(root: Path) -> dict[str, bytes]:
    out = root / "output"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def bench_preload(tmp: Path) -> None:
    site = course_site_packages()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    first = build_data_course(tmp / "without-list", env, None)
    recorded = tmp / "without-list" / ".clx" / "preload.json"
    names = sorted({m for mods in json.loads(recorded.read_text())["notebooks"].values()
                    for m in mods})
    print(f"recorded {len(names)} module names, e.g.",
          ", ".join(n for n in names if "." not in n))
    second = build_data_course(tmp / "with-list", env, recorded)
    same = outputs(tmp / "without-list") == outputs(tmp / "with-list")
    for name, r in (("without preload", first), ("with preload", second)):
        print(f"{name}: {r['wall']:.2f} s wall, {r['kernel_cpu']:.3f} s kernel CPU per "
              f"execution ({r['executions']}), {r['other_cpu']:.2f} s CPU in the build's "
              "other processes")
    print(
        f"decks={PRELOAD_DECKS} executions={second['executions']} "
        f"cold_wall_before={first['wall']:.2f} cold_wall_after={second['wall']:.2f} "
        f"kernel_cpu_before={first['kernel_cpu']:.3f} kernel_cpu_after={second['kernel_cpu']:.3f} "
        f"other_cpu_before={first['other_cpu']:.2f} other_cpu_after={second['other_cpu']:.2f} "
        f"identical_outputs={int(same)}"
    )


@contextlib.contextmanager
def server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from pgserver import running_server

    with running_server() as s:
        yield s.url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--url", help="PostgreSQL URL (default: a throwaway local server)")
    ap.add_argument("--preload", action="store_true",
                    help="pandas/matplotlib decks, cold, without and with a preload list")
    a = ap.parse_args()
    if a.preload:
        with tempfile.TemporaryDirectory() as tmp:
            bench_preload(Path(tmp))
        return
    with tempfile.TemporaryDirectory() as tmp:
        wall = build_sqlite(Path(tmp) / "sqlite")
        if a.engine == "sqlite":
            print(
                f"notebooks={NOTEBOOKS} wall_seconds={wall:.2f} "
                f"seconds_per_notebook={wall / NOTEBOOKS:.3f}"
            )
            return
        with server(a.url) as url:
            pg = build_postgres(Path(tmp) / "postgresql", url, workers=os.cpu_count() or 1)
    print(f"sqlite: {wall:.2f} s, postgresql with remote workers: {pg:.2f} s")
    print(
        f"notebooks={NOTEBOOKS} sqlite_wall_seconds={wall:.2f} "
        f"postgresql_wall_seconds={pg:.2f} ratio={pg / wall:.3f}"
    )


if __name__ == "__main__":
    main()
