"""Per-language execution in a real build: missing kernels, skipped languages, errors on
purpose (`skip-errors`, `evaluate`, `[execute]`)."""

from __future__ import annotations

from pathlib import Path

from clx.course.course import load_course
from clx.course.outputs import plan_outputs
from clx.course.variants import Format, Kind
from clx.pipeline.progress import SilentProgress
from clx.pipeline.run import BuildOptions, build
from clxtest import write_tree

SPEC = """<course>
  <name><de>Sprachen</de><en>Languages</en></name>
  <prog-lang>java</prog-lang>
  <author>Ada</author>
  <organization><de>A</de><en>A</en></organization>
  <sections><section><name><de>Teil</de><en>Part</en></name><topics>
    <topic skip-errors="yes">records</topic>
    <topic evaluate="no">unevaluated</topic>
    <topic>rust_one</topic>
    <topic>rust_two</topic>
  </topics></section></sections>
</course>
"""


def deck(title: str, body: str) -> str:
    return (
        f"// j2 from 'macros.j2' import header\n// {{{{ header('{title}', '{title}') }}}}\n\n{body}"
    )


FILES = {
    "course-specs/course.xml": SPEC,
    "slides/module_100/topic_100_records/slides_records.java": deck(
        "Records",
        (
            "// %%\nrecord P(int x) {}\nP p = new P(1);\n"  # lines 4-6
            "// %%\np.x = 5; // error on purpose, no tag\n"  # lines 7-8
            '// %%\nSystem.out.println("clx-after " + p.x());\n'
        ),
    ),
    "slides/module_100/topic_200_unevaluated/slides_plain.java": deck(
        "Plain", ('// %%\nSystem.out.println("clx-never-" + "run");\n')
    ),
    "slides/module_100/topic_300_rust_one/slides_one.rs": deck("One", "// %%\nlet x = 1;\n"),
    "slides/module_100/topic_400_rust_two/slides_two.rs": deck("Two", "// %%\nlet y = 2;\n"),
}


def html_of(spec: Path, out: Path, stem: str, kind: Kind) -> Path:
    plan = plan_outputs(load_course(spec, output_root=out))
    [nb] = [nb for nb in plan.notebooks if nb.file.path.stem == stem]
    return next(
        p
        for v, p in nb.paths.items()
        if v.format is Format.HTML and v.kind is kind and v.lang == "en"
    )


def test_missing_kernel_is_one_error_per_language_remembered_until_kernels_change(tmp_path):
    root = write_tree(tmp_path / "course", FILES)
    spec, out = root / "course-specs" / "course.xml", tmp_path / "out"

    def run(**kw):
        return build(
            BuildOptions(
                spec=spec, output_root=out, notebook_workers=1, progress=SilentProgress(), **kw
            )
        )

    report = run()
    missing = [e for e in report.errors if "'rust'" in e.message]
    assert len(missing) == 1 and len(report.errors) == 1, report.render_text()
    assert "slides_one.rs" in missing[0].message and "slides_two.rs" in missing[0].message
    assert missing[0].category.value == "configuration"
    assert not html_of(spec, out, "slides_one", Kind.COMPLETED).exists()
    assert html_of(spec, out, "slides_one", Kind.CODE_ALONG).is_file()  # the rest is built

    # errors on purpose: the Java cell fails, keeps its output, is one warning with its line
    allowed = {
        (w.file, w.line, w.message) for w in report.warnings if "errors are allowed" in w.message
    }  # once per language job, grouped
    [(file, line, message)] = allowed
    assert file.endswith("slides_records.java") and line == 7  # the cell's marker line
    assert "CompilationException" in message
    records = html_of(spec, out, "slides_records", Kind.COMPLETED).read_text("utf-8")
    assert "has private access" in records and "clx-after 1" in records
    # evaluate="no": exported, not executed
    plain = html_of(spec, out, "slides_plain", Kind.SPEAKER).read_text("utf-8")
    assert 'class="output_area"' not in plain

    # Unchanged course, same kernels: no job runs, the error is reported once again.
    again = run()
    assert set(again.jobs_by_kind["notebook"]) == {"cached"}, again.jobs_by_kind
    assert [e.message for e in again.errors] == [missing[0].message]

    # Rust built unexecuted: no error, one warning naming the language, pages without outputs.
    skipped = run(execute_skip=("rust",))
    assert skipped.errors == [], skipped.render_text()
    [warning] = [w for w in skipped.warnings if "not executed" in w.message]
    assert warning.message.startswith("rust notebooks are not executed")
    page = html_of(spec, out, "slides_two", Kind.COMPLETED).read_text("utf-8")
    assert 'class="output_area"' not in page and "let" in page


def test_the_kernel_that_runs_a_notebook_is_an_ingredient_of_its_key(tmp_path) -> None:
    from clx.notebooks.environments import kernel_identity
    from clx.pipeline.run import plan_jobs

    root = write_tree(tmp_path / "course", FILES)
    spec = root / "course-specs" / "course.xml"
    course = load_course(spec, output_root=tmp_path / "out")
    _, planned = plan_jobs(course, BuildOptions(spec=spec, output_root=tmp_path / "out"))
    kernels = {
        p.source_rel.rsplit("/", 1)[1]: p.job.payload["kernel"]
        for p in planned
        if p.job.kind == "notebook"
    }
    assert kernels["slides_records.java"] == kernel_identity("java") != ""
    assert kernels["slides_records.java"].startswith("java kernel jjava ")  # and its JDK
    assert " on openjdk " in kernels["slides_records.java"]
    assert kernels["slides_plain.java"] == ""  # evaluate="no": no kernel runs it
    assert kernels["slides_one.rs"] == ""  # not installed
    assert all("kernel" in p.ingredients for p in planned if p.job.kind == "notebook")


def test_workers_boot_spares_of_the_kernels_the_planned_jobs_execute_on(tmp_path) -> None:
    from clx.pipeline.run import _kernels_used, plan_jobs

    python_decks = {f"slides/module_100/topic_500_py/slides_py{i}.py": "# %%\n1\n" for i in (1, 2)}
    spec_text = SPEC.replace("<topic>rust_one</topic>", "<topic>py</topic><topic>rust_one</topic>")
    files = {**FILES, **python_decks, "course-specs/course.xml": spec_text}
    root = write_tree(tmp_path / "course", files)
    spec = root / "course-specs" / "course.xml"
    opts = BuildOptions(spec=spec, output_root=tmp_path / "out")
    _, planned = plan_jobs(load_course(spec, output_root=tmp_path / "out"), opts)
    # python3 runs two decks, java one (the evaluate="no" deck and Rust, which has no
    # kernel here, execute nothing): most used first
    assert _kernels_used(planned) == ["python3", "java"]
    _, skipped = plan_jobs(
        load_course(spec, output_root=tmp_path / "out"),
        BuildOptions(spec=spec, output_root=tmp_path / "out", execute_skip=("java",)),
    )
    assert _kernels_used(skipped) == ["python3"]
