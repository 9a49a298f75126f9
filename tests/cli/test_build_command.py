"""`clx build` as a subprocess: JSON report and its schema, exit codes, messages."""

from __future__ import annotations

import json

from cli_course import PU, notebook, plain_course, validate_report


def test_json_report_cache_and_quiet(make_course) -> None:
    c = plain_course(make_course, **{"slides/m_100/topic_100_first/pu/flow.pu": PU})
    user_config = c.root.parent / "xdg-config" / "clx" / "clx.toml"
    user_config.parent.mkdir()
    user_config.write_text('[build]\nimage-format = "svg"\n')
    r = c.clx("build", str(c.spec), "--output", "json")
    assert r.returncode == 0, r.stderr
    doc = validate_report(r.stdout)  # stdout holds the JSON document and nothing else
    assert doc["ok"] and doc["exit_status"] == 0 and doc["errors"] == []
    assert doc["jobs"] == {"notebook": {"succeeded": 6}, "plantuml": {"succeeded": 1}}
    assert doc["cache"] == {"jobs": 7, "hits": 0, "failed_hits": 0, "misses": 7}
    assert doc["timings"]["jobs"]["notebook"]["ran"] == 6
    assert doc["paths"]["output_root"] == str(c.out.resolve())
    files = [p for p in c.out.rglob("*") if p.is_file() and p.suffix != ".svg"]
    assert doc["outputs"] == len(files) - 1  # all but the manifest (SVGs are not counted)
    # plain progress lines on stderr (not a terminal), then the text report
    assert "7 job(s) to run, 0 answered from the cache" in r.stderr
    assert "build ok:" in r.stderr
    # image-format from the user config: an SVG next to every PNG render
    pngs = sorted(c.out.rglob("flow.png"))
    assert pngs and all(p.with_suffix(".svg").is_file() for p in pngs)

    again = c.clx("build", str(c.spec), "--output", "json", "--quiet")
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""  # quiet and ok: nothing at all
    doc = validate_report(again.stdout)
    assert doc["cache"]["hits"] == 7 and doc["cache"]["misses"] == 0
    assert doc["timings"]["jobs"] == {}

    # the other commands still work on the built course
    html = next(c.out.rglob("01 Erstens.html")).relative_to(c.out)
    r = c.clx("cache", "explain", str(c.spec), str(html))
    assert r.returncode == 0 and "01 Erstens.html" in r.stdout, r.stderr
    r = c.clx("plan", str(c.spec))
    assert r.returncode == 0 and "total outputs:" in r.stdout


def test_failure_exit_1_with_locations_and_cell_timeout_from_config(make_course) -> None:
    c = make_course(
        {
            "slides/m_100/topic_100_first/slides_first.py": notebook("Erstens", "First"),
            "slides/m_100/topic_200_second/slides_second.py": notebook(
                "Zweitens", "Second", "import time\ntime.sleep(30)"
            ),
            "clx.toml": "[build]\ncell-timeout = 1\n",
        }
    )
    target = c.root / "report.json"
    r = c.clx(
        "build", str(c.spec), "--output", "json", "--lang", "en", "--json-report", str(target)
    )
    assert r.returncode == 1, r.stderr
    doc = validate_report(r.stdout)
    assert json.loads(target.read_text()) == doc
    assert not doc["ok"] and doc["exit_status"] == 1 and doc["error_count"] >= 1
    err = doc["errors"][0]
    assert err["file"] == "slides/m_100/topic_200_second/slides_second.py"
    assert err["line"] is not None and "en/completed/html" in err["variants"]
    assert "did not finish within 1 s" in err["message"]
    assert "error: slides/m_100/topic_200_second/slides_second.py:" in r.stderr
    assert doc["jobs"]["notebook"]["failed"] == 1


def test_spec_error_exit_2_still_prints_json(make_course) -> None:
    c = plain_course(make_course)
    c.spec.write_text(
        c.spec.read_text().replace(
            "<topic>second</topic>", "<topic>second</topic><topic>nope</topic>"
        )
    )
    r = c.clx("build", str(c.spec), "--output", "json")
    assert r.returncode == 2
    doc = validate_report(r.stdout)
    assert doc["exit_status"] == 2 and doc["jobs"] == {}
    assert doc["errors"][0]["message"] == "Topic not found: nope"
    assert doc["errors"][0]["line"] == 6  # the <topics> line
    assert "Topic not found: nope" in r.stderr
    assert not (c.root / "output").exists()


def test_usage_errors_exit_2_without_traceback(make_course, tmp_path) -> None:
    c = plain_course(make_course)
    cases = {
        (
            "build",
            str(c.root / "course-specs" / "other.xml"),
        ): f"spec file not found: {c.root / 'course-specs' / 'other.xml'}; did you mean",
        ("build", str(c.root)): "is a directory, not a spec file; specs found:",
        ("build", str(c.spec), "--lang", "fr"): "--lang: unknown value(s) fr",
        ("build", str(c.spec), "--kind", "teacher"): "--kind: unknown value(s) teacher",
        ("build", str(c.spec), "--format", "pdf"): "--format: unknown value(s) pdf",
        ("build", str(c.spec), "--target", "all"): "--target: unknown value(s) all",
        ("build", str(c.spec), "--workers", "0"): "--workers: must be at least 1",
        ("build", str(c.spec), "--cell-timeout", "0"): "--cell-timeout: must be greater than 0",
        ("build", str(c.spec), "--stall-timeout", "-1"): "--stall-timeout: must be greater",
        ("build", str(c.spec), "--watch", "--output", "json"): "cannot be combined with --watch",
        ("build", str(c.spec), "--course-root", str(tmp_path / "x")): "course root not found",
        ("plan", str(tmp_path / "missing.xml")): "spec file not found",
        ("status", str(tmp_path / "missing.xml")): "spec file not found",
    }
    for args, message in cases.items():
        r = c.clx(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr and r.stdout == "", args
    # argparse's own usage errors also exit 2
    assert c.clx("build").returncode == 2
    assert c.clx("build", str(c.spec), "--output", "xml").returncode == 2


def test_no_slides_folder(make_course) -> None:
    c = plain_course(make_course)
    (c.root / "slides").rename(c.root / "lectures")
    r = c.clx("build", str(c.spec))
    assert r.returncode == 2
    assert f"no slides/ folder in the course root {c.root.resolve()}" in r.stderr


def test_missing_tool_is_shown_once(make_course) -> None:
    files = {f"slides/m_100/topic_100_first/pu/d{i}.pu": PU for i in range(3)}
    c = plain_course(make_course, **files)
    r = c.clx(
        "build",
        str(c.spec),
        "--output",
        "json",
        "--kind",
        "completed",
        "--format",
        "code",
        env={"PLANTUML_JAR": str(c.root / "no-such.jar")},
    )
    assert r.returncode == 1, r.stderr
    doc = validate_report(r.stdout)
    assert doc["jobs"]["plantuml"] == {"failed": 3}
    assert {e["category"] for e in doc["errors"]} == {"configuration"}
    message = "plantuml jar not found"
    lines = [line for line in r.stderr.splitlines() if message in line]
    # once as it happens (as a configuration problem) and once in the summary
    assert len(lines) == 2, r.stderr
    assert lines[0].startswith("clx: configuration problem")
    assert "unset PLANTUML_JAR" in lines[0]
    assert "affects 3 source(s)" in lines[1]
