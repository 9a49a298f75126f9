"""Recorded job durations and the longest-first order they give the next build."""

from __future__ import annotations

from pathlib import Path

import pytest

from clx.pipeline.durations import DurationStore, JobIdentity, estimate
from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clx.queue.sqlite import SqliteQueue
from clxtest import TWO_TOPICS_SPEC, notebook, write_tree


def test_store_keeps_the_last_duration_and_learns_a_rate(tmp_path: Path) -> None:
    a_de = JobIdentity("slides/a.py", "de", "notebook", 1000, "python")
    a_en = JobIdentity("slides/a.py", "en", "notebook", 1000, "python")
    with DurationStore(tmp_path) as store:
        store.record([(a_de, 4.0), (a_en, 2.0)])
        store.record([(a_de, 3.0)])  # the last run counts
        assert store.last() == {
            ("slides/a.py", "de", "notebook"): 3.0,
            ("slides/a.py", "en", "notebook"): 2.0,
        }
        rates = store.rates()
    assert rates == {("notebook", "python"): pytest.approx(5.0 / 2000)}
    new = JobIdentity("slides/b.py", "de", "notebook", 4000, "python")
    assert estimate(new, rates) == pytest.approx(10.0)  # the course's own rate
    # before anything is recorded: bigger sources and slower kernels are expected longer
    small, big = (JobIdentity("x", "de", "notebook", n, "python") for n in (100, 50_000))
    java = JobIdentity("x", "de", "notebook", 100, "java")
    assert estimate(small, {}) < estimate(big, {})
    assert estimate(small, {}) < estimate(java, {})


def test_second_build_starts_the_longest_jobs_first(tmp_path: Path) -> None:
    """One worker, so the claim order is the queue's priority order: beta (sleeps) was
    submitted after alpha, yet once its duration is known it runs first."""
    root = tmp_path / "course"
    write_tree(
        root,
        {
            "course-specs/c.xml": TWO_TOPICS_SPEC,
            "slides/m_1/topic_100_alpha/slides_alpha.py": notebook(
                "Alpha", "Alpha", "import time\ntime.sleep(0.0)"
            ),
            "slides/m_1/topic_200_beta/slides_beta.py": notebook(
                "Beta", "Beta", "import time\ntime.sleep(1.5)"
            ),
        },
    )
    spec = root / "course-specs" / "c.xml"

    def run_and_order(**kw: object) -> list[tuple[int, str]]:
        report = build(
            BuildOptions(
                spec=spec, progress=SilentProgress(), notebook_workers=1, langs=("en",), **kw
            )
        )
        assert report.ok, report.render_text()
        with SqliteQueue(root / ".clx" / "clx.db") as queue:
            jobs = queue.jobs(queue.sessions(limit=1)[0].id)
        return [
            (j.priority, "beta" if "Beta" in j.outputs[0] else "alpha")
            for j in sorted(jobs, key=lambda j: j.started_at)
        ]

    first = run_and_order()
    assert [name for _, name in first] == ["alpha", "beta"]  # same estimate: spec order
    with DurationStore(root / ".clx") as store:
        last = store.last()
    assert set(last) == {
        ("slides/m_1/topic_100_alpha/slides_alpha.py", "en", "notebook"),
        ("slides/m_1/topic_200_beta/slides_beta.py", "en", "notebook"),
    }
    assert last[("slides/m_1/topic_200_beta/slides_beta.py", "en", "notebook")] >= 1.5

    second = run_and_order(ignore_cache=True)
    assert [name for _, name in second] == ["beta", "alpha"]
    assert second[0][0] > second[1][0] >= 0

    # A build of some formats only runs shorter jobs: it must not stand for the whole.
    run_and_order(ignore_cache=True, formats=("notebook",))
    with DurationStore(root / ".clx") as store:
        after = store.last()
    assert after[("slides/m_1/topic_200_beta/slides_beta.py", "en", "notebook")] >= 1.5

    # Nor does a build that executes nothing (--no-execute): its jobs are timed apart.
    run_and_order(ignore_cache=True, execute_skip=("python",))
    with DurationStore(root / ".clx") as store:
        after = store.last()
    assert after[("slides/m_1/topic_200_beta/slides_beta.py", "en", "notebook")] >= 1.5
    assert ("slides/m_1/topic_200_beta/slides_beta.py", "en", "notebook-unexecuted") in after
