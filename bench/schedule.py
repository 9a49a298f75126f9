"""Longest jobs first: one ~12 s deck among twenty ~1 s decks, the long one last in the spec.

Two notebook workers, English only (one job per deck), built twice: the first build
knows no durations (estimates from source size only), the second runs every job again
(``--ignore-cache``) with the durations the first one recorded. For each build it
prints the makespan (first job claimed to last job finished, from the queue), the lower
bound ``max(longest job, total work / workers)`` and their ratio; the goal is a ratio
of at most 1.15 for the second build. The last line is `name=value` pairs.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gencourse import SPEC_HEAD  # noqa: E402

from clx.queue.sqlite import SqliteQueue  # noqa: E402

SHORT, LONG, WORKERS = 20, 12.0, 2
SHORT_SLEEP = 0.7  # plus the job's own work: about 1 s


def deck(i: int, sleep: float) -> str:
    """Every deck has the same size, so the first build cannot tell the long one apart."""
    return "\n".join(
        [
            "# j2 from 'macros.j2' import header",
            f'# {{{{ header("Thema {i:02d}", "Topic {i:02d}") }}}}',
            "",
            '# %% [markdown] tags=["slide"]',
            f"# Deck {i:02d}",
            "",
            "# %%",
            "import time",
            f"time.sleep({sleep:04.1f})",
            f"'{i:02d}' * 2",
            "",
        ]
    )


def make_course(root: Path) -> Path:
    topics = [(f"t{i:02d}", SHORT_SLEEP) for i in range(SHORT)] + [("tlong", LONG)]
    refs = "".join(f"<topic>{t}</topic>" for t, _ in topics)
    spec = root / "course-specs" / "schedule.xml"
    spec.parent.mkdir(parents=True)
    spec.write_text(
        SPEC_HEAD + "    <section><name><de>Teil</de><en>Part</en></name>"
        f"<topics>{refs}</topics></section>\n  </sections>\n</course>\n",
        encoding="utf-8",
    )
    for i, (t, sleep) in enumerate(topics):
        d = root / "slides" / "module_000_m" / f"topic_{i:03d}_{t}"
        d.mkdir(parents=True)
        (d / f"slides_{t}.py").write_text(deck(i, sleep), encoding="utf-8")
    return spec


def build(clx: Path, spec: Path, *extra: str) -> None:
    cmd = [str(clx), "build", str(spec), "--workers", str(WORKERS), "--lang", "en", *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"build failed:\n{r.stderr}")


def last_build(db: Path) -> tuple[float, float, float]:
    """(makespan, lower bound, longest job) of the newest session's notebook jobs."""
    with SqliteQueue(db) as queue:
        session = queue.sessions(limit=1)[0].id
        jobs = [j for j in queue.jobs(session) if j.kind == "notebook"]
    starts = [j.started_at for j in jobs if j.started_at]
    ends = [j.finished_at for j in jobs if j.finished_at]
    if len(starts) != len(jobs) or len(ends) != len(jobs):
        sys.exit("a job has no start or end time")
    durations = [(j.finished_at - j.started_at).total_seconds() for j in jobs]  # type: ignore[operator]
    makespan = (max(ends) - min(starts)).total_seconds()
    longest = max(durations)
    return makespan, max(longest, sum(durations) / WORKERS), longest


def main() -> None:
    clx = Path(sys.executable).parent / "clx"
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        spec = make_course(Path(tmp))
        db = Path(tmp) / ".clx" / "clx.db"
        for name, extra in (("first", ()), ("second", ("--ignore-cache",))):
            build(clx, spec, *extra)
            makespan, bound, longest = last_build(db)
            ratio = makespan / bound
            print(
                f"{name} build: makespan {makespan:.2f} s, lower bound {bound:.2f} s "
                f"(longest job {longest:.2f} s), ratio {ratio:.3f}"
            )
            figures.append((name, makespan, bound, ratio))
    print(
        " ".join(
            f"{n}_makespan={m:.2f} {n}_lower_bound={b:.2f} {n}_ratio={r:.3f}"
            for n, m, b, r in figures
        )
    )


if __name__ == "__main__":
    main()
