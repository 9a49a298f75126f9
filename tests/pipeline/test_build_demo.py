"""End to end: build the example course with real workers, kernels, JVM and Chromium."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from clx.course.course import load_course
from clx.course.outputs import plan_outputs
from clx.course.variants import Format, Kind
from clx.pipeline.assets import add_asset_copies
from clx.pipeline.progress import PlainProgress, SilentProgress
from clx.pipeline.run import BuildOptions, build
from clx.queue.sqlite import SqliteQueue


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".clx" not in p.relative_to(root).parts
    }


def test_demo_course_builds_every_planned_output_deterministically(demo_copy: Path, tmp_path: Path) -> None:
    spec = demo_copy / "course-specs" / "demo.xml"
    out = tmp_path / "out"
    before = tree_digest(demo_copy)
    lines: list[str] = []
    report = build(BuildOptions(spec=spec, output_root=out, progress=PlainProgress(lines.append)))
    assert report.ok, report.render_text()
    assert tree_digest(demo_copy) == before, "the source tree must stay untouched"
    # Every worker went through its own clean shutdown, recording all it did.
    with SqliteQueue(demo_copy / ".clx" / "clx.db") as q:
        (session,) = q.sessions()
        done = {w.id: w.jobs_done for w in q.workers(session.id)}
        ran = {}
        for job in q.jobs(session.id):
            ran[job.worker_id] = ran.get(job.worker_id, 0) + 1
    assert done == ran
    for worker in done:
        log = (demo_copy / ".clx" / "logs" / f"{worker}.log").read_text()
        assert f"worker {worker} stopped after {done[worker]} jobs" in log, log[-2000:]

    plan = plan_outputs(load_course(spec, output_root=out))
    add_asset_copies(plan)  # the build copies MathJax & co. into every output tree
    planned = plan.all_paths()
    missing = [p for p in planned if not p.is_file()]
    assert not missing
    produced = sorted(p for p in out.rglob("*") if p.is_file() and p.name != ".clx-manifest.json")
    assert produced == planned  # nothing more, nothing less
    manifest = json.loads((out / ".clx-manifest.json").read_text(encoding="utf-8"))
    assert manifest["specs"]["course-specs/demo.xml"] == sorted(p.relative_to(out).as_posix() for p in planned)
    assert report.outputs == len(planned)

    for nb in plan.notebooks:
        for variant, path in nb.paths.items():
            if variant.format is Format.HTML:
                html = path.read_text(encoding="utf-8")
                assert f"<title>{nb.page_title(variant.lang)}</title>" in html
                executed = 'class="output_area"' in html
                assert executed == (variant.kind is not Kind.CODE_ALONG), (variant, path)
            elif variant.format is Format.NOTEBOOK:
                doc = json.loads(path.read_text(encoding="utf-8"))
                assert all(not c.get("outputs") for c in doc["cells"] if c["cell_type"] == "code")

    # The Java and TypeScript decks ran on their own kernels (jjava, Deno): outputs in
    # completed and speaker HTML, Deno's coloured values as coloured text.
    expected = {
        ".java": ["clx-java-point 3,4", "Point[x=1, y=2]", "clx-java-area 36.0", "x has private access in Point"],
        ".ts": ["clx-ts-point 3,4", '<span class="ansi-yellow-fg">42</span>', "TypeError"],
    }
    other_languages = [nb for nb in plan.notebooks if nb.prog_lang.suffix in expected]
    assert len(other_languages) == 2
    for nb in other_languages:
        for variant, path in nb.paths.items():
            if variant.format is Format.HTML and variant.kind is not Kind.CODE_ALONG:
                html = path.read_text(encoding="utf-8")
                for text in expected[nb.prog_lang.suffix]:
                    assert text in html, (text, path)
                assert "\x1b" not in html and "[33m" not in html

    # renders replace the stale committed PNG; data files and dir-groups are in place
    for d in plan.diagrams:
        for t in d.targets:
            assert t.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stale = demo_copy / "slides/module_100_basics/topic_100_intro/img/flow.png"
    for d in plan.diagrams:
        if d.source_rel.endswith("topic_100_intro/pu/flow.pu"):
            assert all(t.read_bytes() != stale.read_bytes() for t in d.targets)
    for cp in plan.copies:
        assert cp.target.read_bytes() == cp.source.read_bytes(), cp.target

    # A second build gives byte-identical outputs and rewrites no unchanged file.
    first = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in produced}
    report = build(BuildOptions(spec=spec, output_root=out, progress=SilentProgress(),
                                ignore_cache=True))
    assert report.ok, report.render_text()
    assert set(report.jobs_by_kind["notebook"]) == {"succeeded"}
    for p, (data, mtime) in first.items():
        assert p.read_bytes() == data, f"output differs between builds: {p}"
        assert p.stat().st_mtime_ns == mtime, f"unchanged file rewritten: {p}"
