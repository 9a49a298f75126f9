"""`clx cache explain` plans with the settings `clx build` uses (clx.toml and flags)."""

from __future__ import annotations

from cli_course import PU, plain_course

from clx.cli.main import main


def test_explain_uses_the_build_settings_from_clx_toml_and_flags(
    make_course, monkeypatch, capsys
) -> None:
    c = plain_course(
        make_course,
        **{
            "slides/m_100/topic_100_first/img/flow.pu": PU,
            "clx.toml": '[build]\nimage-format = "svg"\ncell-timeout = 30\n',
        },
    )
    r = c.clx("build", str(c.spec), "--quiet")
    assert r.returncode == 0, r.stderr
    png = next(c.out.rglob("flow.png"))
    assert png.with_suffix(".svg").is_file()  # the build did use clx.toml
    html = next(c.out.rglob("01 First.html"))

    monkeypatch.setenv("XDG_CONFIG_HOME", c.env["XDG_CONFIG_HOME"])

    def explain(path, *flags: str) -> str:
        assert main(["cache", "explain", str(c.spec), str(path), *flags]) == 0
        return capsys.readouterr().out

    for path in (png, png.with_suffix(".svg"), html.relative_to(c.out)):
        out = explain(path)
        assert "up to date" in out, out
    # A flag that changes a key is taken into account, like the build would.
    out = explain(png, "--image-format", "png")
    assert "rebuilds because:" in out and "labels changed" in out, out
    out = explain(html, "--cell-timeout", "5")
    assert "rebuilds because:" in out and "cell_timeout changed" in out, out
    out = explain(html, "--kind", "completed")  # fewer variants: another key
    assert "rebuilds because:" in out and "labels changed" in out, out
    out = explain(html, "--cell-timeout", "30", "--image-format", "svg")
    assert "up to date" in out, out
    assert main(["cache", "explain", str(c.spec), str(html), "--cell-timeout", "0"]) == 2
    assert "--cell-timeout: must be greater than 0" in capsys.readouterr().err


def test_explain_paths_from_either_root_and_unknown_paths(make_course, monkeypatch, capsys) -> None:
    c = plain_course(make_course, **{"slides/m_100/topic_100_first/data.csv": "a,b\n"})
    r = c.clx("build", str(c.spec), "--quiet")
    assert r.returncode == 0, r.stderr
    monkeypatch.setenv("XDG_CONFIG_HOME", c.env["XDG_CONFIG_HOME"])
    html = next(c.out.rglob("01 First.html"))
    for path in (html, html.relative_to(c.out), html.relative_to(c.root)):
        assert main(["cache", "explain", str(c.spec), str(path)]) == 0, path
        assert "up to date" in capsys.readouterr().out
    data = next(c.out.rglob("data.csv"))
    assert main(["cache", "explain", str(c.spec), str(data.relative_to(c.root))]) == 0
    assert "copied from slides/m_100/topic_100_first/data.csv" in capsys.readouterr().out

    typo = html.relative_to(c.out).with_name("01 Frist.html")
    assert main(["cache", "explain", str(c.spec), str(typo)]) == 2
    err = capsys.readouterr().err
    assert f"{typo}: no such output" in err and str(c.root) in err
    (c.out / "mine.txt").write_text("the author's own file\n")
    assert main(["cache", "explain", str(c.spec), "mine.txt"]) == 2
    assert "exists, but this spec's build does not produce it" in capsys.readouterr().err
