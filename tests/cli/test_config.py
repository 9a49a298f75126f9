"""clx.toml: precedence flags > course config > user config > built-in defaults."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from cli_course import plain_course

from clx.cli.buildcmd import build_options
from clx.cli.config import DEFAULTS, load_config, user_config_path
from clx.cli.errors import UsageError
from clx.cli.main import build_parser


def _opts(course, *flags: str, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", course.env["XDG_CONFIG_HOME"])
    args = build_parser().parse_args(["build", str(course.spec), "--quiet", *flags])
    return build_options(args, course.spec)


def _user_config(course, text: str) -> Path:
    path = user_config_path(course.env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_config_files(make_course, monkeypatch) -> None:
    c = plain_course(make_course)
    o = _opts(c, monkeypatch=monkeypatch)
    assert (o.notebook_workers, o.cell_timeout, o.image_format, o.stall_timeout) == (
        DEFAULTS.workers,
        DEFAULTS.cell_timeout,
        DEFAULTS.image_format,
        DEFAULTS.stall_timeout,
    )
    assert o.output_root is None  # the build's default: <course root>/output


def test_course_config_over_user_config_and_flags_over_both(make_course, monkeypatch) -> None:
    c = plain_course(make_course)
    _user_config(
        c,
        '[build]\nworkers = 3\ncell-timeout = 7\nimage-format = "svg"\n'
        'output-dir = "user-out"\nstall-timeout = 9\n',
    )
    (c.root / "clx.toml").write_text('[build]\ncell-timeout = 5\noutput-dir = "/abs/out"\n')
    o = _opts(c, monkeypatch=monkeypatch)
    assert o.notebook_workers == 3 and o.image_format == "svg" and o.stall_timeout == 9
    assert o.cell_timeout == 5 and o.output_root == Path("/abs/out")
    o = _opts(
        c,
        "--workers",
        "1",
        "--cell-timeout",
        "2",
        "--image-format",
        "png",
        "--stall-timeout",
        "4",
        "--output-dir",
        "flag-out",
        monkeypatch=monkeypatch,
    )
    assert (o.notebook_workers, o.cell_timeout, o.image_format, o.stall_timeout) == (1, 2, "png", 4)
    assert o.output_root == Path("flag-out")
    (c.root / "clx.toml").unlink()
    assert _opts(c, monkeypatch=monkeypatch).output_root == c.root.resolve() / "user-out"


def test_diagram_worker_counts_come_from_config_and_flags(make_course, monkeypatch) -> None:
    from clx.pipeline.run import _worker_counts

    c = plain_course(make_course)
    o = _opts(c, monkeypatch=monkeypatch)
    assert (o.plantuml_workers, o.drawio_workers) == (1, 1)
    (c.root / "clx.toml").write_text("[build]\nplantuml-workers = 3\ndrawio-workers = 2\n")
    o = _opts(c, monkeypatch=monkeypatch)
    assert (o.plantuml_workers, o.drawio_workers) == (3, 2)
    o = _opts(c, "--plantuml-workers", "2", monkeypatch=monkeypatch)
    assert (o.plantuml_workers, o.drawio_workers) == (2, 2)
    # Never more workers of a kind than jobs of it, none for kinds without jobs.
    planned = [SimpleNamespace(job=SimpleNamespace(kind=k)) for k in ["plantuml"] * 5 + ["drawio"]]
    assert _worker_counts(planned, o) == {"plantuml": 2, "drawio": 1}
    (c.root / "clx.toml").write_text("[build]\ndrawio-workers = 0\n")
    with pytest.raises(UsageError, match="drawio-workers"):
        _opts(c, monkeypatch=monkeypatch)
    (c.root / "clx.toml").unlink()
    with pytest.raises(UsageError, match="--plantuml-workers"):
        _opts(c, "--plantuml-workers", "0", monkeypatch=monkeypatch)


def test_load_config_reports_unknown_keys_and_rejects_bad_values(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "none")}
    (tmp_path / "clx.toml").write_text('[build]\ncell_timeout = 3\ncolour = "red"\n[watch]\n')
    loaded = load_config(tmp_path, env)
    assert loaded.defaults == DEFAULTS and loaded.files == [tmp_path / "clx.toml"]
    assert loaded.warnings == [
        f"{tmp_path / 'clx.toml'}: unknown setting 'watch' (known: [build], [queue], [execute], [kernels])",
        f"{tmp_path / 'clx.toml'}: unknown setting 'build.cell_timeout'; did you mean "
        "'cell-timeout'?",
        f"{tmp_path / 'clx.toml'}: unknown setting 'build.colour' (known: workers, "
        "plantuml-workers, drawio-workers, cell-timeout, image-format, stall-timeout, "
        "output-dir, cache-keep-days, formats, max-output-mb)",
    ]
    for bad, why in (
        ("workers = 0", "at least 1"),
        ("workers = 1.5", "whole number"),
        ("cell-timeout = -1", "greater than 0"),
        ('image-format = "gif"', "png"),
        ("stall-timeout = true", "number"),
        ('output-dir = ""', "non-empty"),
        ('formats = ["html", "pdf"]', "unknown format"),
        ("formats = []", "non-empty list"),
        ('[execute]\nskip = ["cobol"]', "unknown language 'cobol'"),
        ('[execute]\nallow-errors = "java"', "expected a list of languages"),
    ):
        (tmp_path / "clx.toml").write_text(f"[build]\n{bad}\n")
        with pytest.raises(UsageError, match=why) as e:
            load_config(tmp_path, env)
        assert str(tmp_path / "clx.toml") in str(e.value)


def test_cli_names_the_config_file(make_course) -> None:
    c = plain_course(make_course)
    user = _user_config(c, "[build]\nworkrs = 2\n")
    r = c.clx("plan", str(c.spec))
    assert r.returncode == 0
    assert f"clx: warning: {user}: unknown setting 'build.workrs'; did you mean 'workers'?" in (
        r.stderr
    )
    (c.root / "clx.toml").write_text("[build]\nworkers = 'many'\n")
    r = c.clx("build", str(c.spec))
    assert r.returncode == 2
    assert f"clx: {c.root.resolve() / 'clx.toml'}: build.workers = 'many'" in r.stderr
    (c.root / "clx.toml").write_text("[build\n")
    r = c.clx("build", str(c.spec))
    assert r.returncode == 2 and "cannot read the config file" in r.stderr
    assert "line 1" in r.stderr and "Traceback" not in r.stderr
    # the output root from the config file is where plan and build look
    (c.root / "clx.toml").write_text('[build]\noutput-dir = "site"\n')
    html = "public/De/Kurs/Folien/Html/Code-Along/Teil Eins/01 Erstens.html"
    r = c.clx("cache", "explain", str(c.spec), str(c.root / "site" / html))
    assert r.returncode == 0 and "produced by the notebook job" in r.stdout, r.stdout
    r = c.clx("cache", "explain", str(c.spec), str(c.root / "output" / html))
    assert r.returncode == 2 and "no such output" in r.stderr


def test_the_queue_url_comes_from_the_flag_the_environment_or_clx_toml(
    tmp_path: Path, monkeypatch
) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "none")}
    (tmp_path / "clx.toml").write_text('[queue]\nurl = "postgresql://clx@db/clx"\n')
    assert load_config(tmp_path, env).defaults.queue_url == "postgresql://clx@db/clx"
    (tmp_path / "clx.toml").write_text('[queue]\nurl = "mysql://x"\n')
    with pytest.raises(UsageError, match="queue.url"):
        load_config(tmp_path, env)
    import argparse

    from clx.cli.buildcmd import settings

    (tmp_path / "clx.toml").write_text('[queue]\nurl = "postgresql://clx@from-toml/clx"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
    spec = tmp_path / "c.xml"
    args = argparse.Namespace(course_root=str(tmp_path), queue=None)
    monkeypatch.delenv("CLX_QUEUE_URL", raising=False)
    assert settings(args, spec)[1].queue_url == "postgresql://clx@from-toml/clx"
    monkeypatch.setenv("CLX_QUEUE_URL", "postgresql://clx@from-env/clx")
    assert settings(args, spec)[1].queue_url == "postgresql://clx@from-env/clx"
    args.queue = "postgresql://clx@from-flag/clx"
    assert settings(args, spec)[1].queue_url == "postgresql://clx@from-flag/clx"


def test_formats_in_clx_toml_opt_in_to_decks_for_plan_and_build_options(make_course) -> None:
    c = plain_course(make_course)
    r = c.clx("plan", str(c.spec), "-v")
    assert r.returncode == 0 and "notebook-slides" not in r.stdout
    assert "/Slides/Slides/" not in r.stdout
    (c.root / "clx.toml").write_text('[build]\nformats = ["html", "slides"]\n')
    r = c.clx("plan", str(c.spec), "-v")
    assert r.returncode == 0, r.stderr
    assert "notebook-slides: " in r.stdout and "notebook-notebook" not in r.stdout
    assert "/Slides/Slides/Speaker/" in r.stdout and "/Slides/Slides/Completed/" in r.stdout
    assert "/Slides/Slides/Code-Along/" not in r.stdout
    r = c.clx("plan", str(c.spec), "-v", "--format", "code")  # a focus picks among all
    assert "notebook-code: " in r.stdout and "notebook-slides" not in r.stdout


def test_execute_table_and_no_execute_flag(make_course, monkeypatch) -> None:
    course = plain_course(make_course)
    (course.root / "clx.toml").write_text(
        '[execute]\nskip = ["cpp"]\nallow-errors = ["java", "python"]\n'
    )
    opts = _opts(course, "--no-execute", "rust", monkeypatch=monkeypatch)
    assert opts.execute_skip == ("cpp", "rust") and opts.allow_errors == ("java", "python")
    with pytest.raises(UsageError, match="--no-execute: unknown language 'Rust'"):
        _opts(course, "--no-execute", "Rust", monkeypatch=monkeypatch)


def test_kernels_table_names_the_course_python(make_course, monkeypatch) -> None:
    course = plain_course(make_course)
    assert _opts(course, monkeypatch=monkeypatch).python is None  # environments decides
    venv_python = course.root / "env" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text("")
    (course.root / "clx.toml").write_text(
        '[build]\nworkers = 1\n\n[kernels]\npython = "env/bin/python"\n'
    )
    assert _opts(course, monkeypatch=monkeypatch).python == venv_python
    (course.root / "clx.toml").write_text('[kernels]\ncolour = 1\npython = "env/bin/python"\n')
    loaded = load_config(course.root, course.env)
    assert loaded.warnings == [
        f"{course.root / 'clx.toml'}: unknown setting 'kernels.colour' (known: python)"
    ]
    # A path that does not exist: an error naming the file, the line and the key.
    (course.root / "clx.toml").write_text(
        '[build]\nworkers = 1\n[kernels]\npython = "nope/python"\n'
    )
    with pytest.raises(UsageError) as e:
        load_config(course.root, course.env)
    assert str(e.value).startswith(f"{course.root / 'clx.toml'}:4: kernels.python = 'nope/python'")
    assert f"no such file {course.root / 'nope' / 'python'}" in str(e.value)
