"""`clx build` as a subprocess: JSON report and its schema, exit codes, messages."""

from __future__ import annotations

import json
import re

from cli_course import PU, notebook, plain_course, run_on_terminal, validate_report

from clx.problems import strip_ansi


def test_live_progress_json_report_cache_and_focus(make_course) -> None:
    c = plain_course(make_course)
    # on a terminal: the live display on stderr, the JSON document alone on stdout
    code, stdout, terminal = run_on_terminal(c, "build", str(c.spec), "--output", "json")
    assert code == 0, terminal
    doc = validate_report(stdout)
    assert doc["ok"] and doc["exit_status"] == 0 and doc["errors"] == []
    assert doc["jobs"] == {"notebook": {"succeeded": 6}}
    assert doc["cache"] == {"jobs": 6, "hits": 0, "failed_hits": 0, "misses": 6,
                            "restored": 0}
    assert doc["timings"]["jobs"]["notebook"]["ran"] == 6
    assert doc["paths"]["output_root"] == str(c.out.resolve())
    files = [p for p in c.out.rglob("*") if p.is_file()]
    assert doc["outputs"] == len(files) - 1  # all but the manifest
    assert "6 job(s) to run, 0 answered from the cache" in terminal
    assert "\x1b[" in terminal  # drawn with terminal control sequences
    assert re.search(r"notebook .*6/6", strip_ansi(terminal)), terminal
    assert "build ok:" in terminal

    # a focused, quiet build into another output root (the variant set is part of the
    # cache key, so its two jobs run)
    other = c.root / "focused"
    r = c.clx(
        "build",
        str(c.spec),
        "--output",
        "json",
        "--quiet",
        "--output-dir",
        str(other),
        "--lang",
        "de",
        "--kind",
        "completed",
        "--format",
        "html",
        "--target",
        "public",
        "--section",
        "1",
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # quiet and ok: nothing at all
    doc = validate_report(r.stdout)
    assert doc["cache"] == {"jobs": 2, "hits": 0, "failed_hits": 0, "misses": 2,
                            "restored": 0}
    assert doc["timings"]["jobs"]["notebook"]["ran"] == 2
    built = sorted(p.relative_to(other).as_posix() for p in other.rglob("*.html"))
    assert built == [
        "public/De/Kurs/Folien/Html/Completed/Teil Eins/01 Erstens.html",
        "public/De/Kurs/Folien/Html/Completed/Teil Eins/02 Zweitens.html",
        "public/De/Kurs/index.html",  # the home page of the one tree the focus touches
    ]

    # the other commands still work on the built course
    html = next(c.out.rglob("01 Erstens.html")).relative_to(c.out)
    r = c.clx("cache", "explain", str(c.spec), str(html))
    assert r.returncode == 0 and "01 Erstens.html" in r.stdout, r.stderr
    r = c.clx("plan", str(c.spec), "-v")
    assert r.returncode == 0 and "total outputs:" in r.stdout and html.as_posix() in r.stdout
    r = c.clx("cache", "clear", str(c.spec))
    assert r.returncode == 0 and "cleared 8 cached result(s)" in r.stdout


def test_failures_exit_1_with_locations_tool_missing_once(make_course) -> None:
    """A cell over the time limit from clx.toml, and three diagrams whose tool is missing."""
    c = make_course(
        {
            **{f"slides/m_100/topic_100_first/pu/d{i}.pu": PU for i in range(3)},
            "slides/m_100/topic_100_first/slides_first.py": notebook("Erstens", "First"),
            "slides/m_100/topic_200_second/slides_second.py": notebook(
                "Zweitens", "Second", "import time\ntime.sleep(30)"
            ),
            "clx.toml": "[build]\ncell-timeout = 1\n",
        }
    )
    target = c.root / "report.json"
    r = c.clx(
        "build",
        str(c.spec),
        "--output",
        "json",
        "--lang",
        "en",
        "--json-report",
        str(target),
        env={"PLANTUML_JAR": str(c.root / "no-such.jar")},
    )
    assert r.returncode == 1, r.stderr
    doc = validate_report(r.stdout)
    assert json.loads(target.read_text()) == doc
    assert not doc["ok"] and doc["exit_status"] == 1 and doc["error_count"] >= 1
    err = next(e for e in doc["errors"] if e["category"] == "content")
    assert err["file"] == "slides/m_100/topic_200_second/slides_second.py"
    assert err["line"] is not None and "en/completed/html" in err["variants"]
    assert "did not finish within 1 s" in err["message"]
    assert "error: slides/m_100/topic_200_second/slides_second.py:" in r.stderr
    assert doc["jobs"]["notebook"]["failed"] == 1
    assert "job(s) to run" in r.stderr and "jobs finished" in r.stderr  # plain lines

    # the missing tool: once as it happens (as a configuration problem), once in the summary
    assert doc["jobs"]["plantuml"] == {"failed": 3}
    config = [e for e in doc["errors"] if e["category"] == "configuration"]
    # one entry in JSON as in text, so the counts agree
    [entry] = config
    assert "plantuml jar not found" in entry["message"] and "affects 3 source(s)" in entry["message"]
    assert doc["error_count"] == len(doc["errors"])
    assert f"build {doc['error_count']} error(s)" in r.stderr
    lines = [line for line in r.stderr.splitlines() if "plantuml jar not found" in line]
    assert len(lines) == 2, r.stderr
    assert lines[0].startswith("clx: configuration problem")
    assert "unset PLANTUML_JAR" in lines[0]
    assert "affects 3 source(s)" in lines[1]


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
