"""The progress displays, driven through the Progress protocol as the build drives them."""

from __future__ import annotations

import io
from datetime import timedelta

from rich.console import Console

from clx.cli.live import LiveProgress, PlainLines, choose_progress
from clx.pipeline.progress import SilentProgress
from clx.problems import Category, Problem, strip_ansi
from clx.queue.model import RunningJob, utc_now

MISSING = Problem(
    "plantuml jar not found (no jar); install it with: npm install x",
    file="slides/a/pu/d.pu",
    category=Category.CONFIGURATION,
)
CELL = Problem(
    "ZeroDivisionError: division by zero",
    file="slides/a/slides_a.py",
    line=9,
    variants=("de/completed/html",),
)


def _running(job_id: int, kind: str, elapsed: float, name: str) -> RunningJob:
    now = utc_now()
    return RunningJob(
        id=job_id,
        kind=kind,
        worker_id=f"{kind}-1-x",
        attempts=1,
        started_at=now - timedelta(seconds=elapsed),
        lease_expires=now,
        elapsed=elapsed,
        outputs=(f"/out/{name}",),
    )


def test_live_progress_bars_running_jobs_and_failures() -> None:
    stream = io.StringIO()
    live = LiveProgress(Console(file=stream, force_terminal=True, width=120, highlight=False))
    live.start({"notebook": 3, "plantuml": 2}, {"notebook": 4})
    live.running(
        [_running(7, "notebook", 3.2, "01 Intro.html"), _running(8, "plantuml", 0.5, "flow.png")]
    )
    live._live.refresh()
    live.job_finished("notebook", "succeeded", [])
    live.job_finished("notebook", "failed", [CELL])
    live.job_finished("plantuml", "failed", [MISSING])
    live.job_finished("plantuml", "failed", [MISSING])  # the same missing tool again
    # every plantuml job finished: none is shown running any more; one notebook may be
    assert [j.kind for j in live._running.jobs] == ["notebook"]
    live._live.refresh()
    live.stop()
    text = strip_ansi(stream.getvalue())
    assert "5 job(s) to run, 4 answered from the cache" in text
    assert "01 Intro.html" in text and "notebook-1-x" in text and "3." in text
    assert "error: slides/a/slides_a.py:9 [de/completed/html]: ZeroDivisionError" in text
    assert text.count("plantuml jar not found") == 1
    assert "clx: configuration problem" in text
    last = text.rsplit("5 job(s)", 1)[-1].splitlines()[-4:]
    assert any(
        "notebook" in line and "2/3" in line and "1 failed" in line and "4 cached" in line
        for line in last
    ), last
    assert any("plantuml" in line and "2/2" in line and "2 failed" in line for line in last)


def test_plain_lines_show_a_missing_tool_once() -> None:
    lines: list[str] = []
    plain = PlainLines(lines.append, every=2)
    plain.start({"plantuml": 3}, {})
    for _ in range(3):
        plain.job_finished("plantuml", "failed", [MISSING])
    plain.stop()
    assert lines == [
        "3 job(s) to run, 0 answered from the cache",
        "starting workers…",
        f"clx: configuration problem (affects every job that needs it): {MISSING.message}",
        "[2/3] jobs finished",
        "[3/3] jobs finished",
    ]


def test_choice_of_display() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(choose_progress(False, Tty()), LiveProgress)
    assert isinstance(choose_progress(False, io.StringIO()), PlainLines)
    assert isinstance(choose_progress(True, Tty()), SilentProgress)


def test_live_progress_says_starting_workers_until_a_job_runs() -> None:
    stream = io.StringIO()
    live = LiveProgress(Console(file=stream, force_terminal=True, width=120, highlight=False))
    live.start({"notebook": 2}, {})
    live._live.refresh()
    assert "starting workers…" in strip_ansi(stream.getvalue())
    live.running([_running(7, "notebook", 0.2, "slides_intro.py [de]")])
    mark = len(stream.getvalue())
    live._live.refresh()
    shown = strip_ansi(stream.getvalue()[mark:])
    assert "slides_intro.py [de]" in shown and "starting workers" not in shown
    live.stop()


def test_running_jobs_are_named_by_source_and_language(tmp_path) -> None:
    from clx.course.course import load_course
    from clx.pipeline.run import BuildOptions, _named, plan_jobs
    from clxtest import TWO_TOPICS_SPEC, notebook, write_tree

    root = write_tree(
        tmp_path / "c",
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m/topic_100_alpha/slides_alpha.py": notebook("A", "A", "x = 1"),
            "slides/m/topic_100_alpha/pu/flow.pu": "@startuml\nA -> B\n@enduml\n",
            "slides/m/topic_200_beta/slides_beta.py": notebook("B", "B", "x = 2"),
        },
    )
    spec = root / "course-specs/c.xml"
    _plan, planned = plan_jobs(load_course(spec), BuildOptions(spec=spec))
    for i, p in enumerate(planned):
        p.job_id = i + 1
    by_id = {p.job_id: p for p in planned}
    names = {j.outputs[0] for j in _named([_running(i, "x", 1.0, "ignored") for i in by_id], by_id)}
    assert names == {
        "slides_alpha.py [de]",
        "slides_alpha.py [en]",
        "slides_beta.py [de]",
        "slides_beta.py [en]",
        "flow.pu",
    }
