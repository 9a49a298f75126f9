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
