"""docs/cli.md is the parser, written out: it fails here when a command or flag changes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from clx.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "cli.md"


def _generator():
    spec = importlib.util.spec_from_file_location(
        "gen_cli_docs", ROOT / "scripts" / "gen_cli_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_matches_the_parser() -> None:
    gen = _generator()
    expected = gen.render(build_parser())
    assert PAGE.read_text(encoding="utf-8") == expected, (
        f"docs/cli.md is out of date with src/clx/cli/main.py: run `{gen.REGENERATE}`"
    )


def test_every_command_and_flag_has_its_entry() -> None:
    """Guards the generator itself: each visible flag is listed under its own command."""
    gen = _generator()
    page = PAGE.read_text(encoding="utf-8")
    sections = {}
    for block in page.split("\n#")[1:]:
        title, _, body = block.partition("\n")
        sections[title.strip("# `")] = body
    flags = gen.option_strings(build_parser())
    assert len(flags) > 40
    for command, flag in flags:
        body = sections.get(f"clx {command}".strip())
        assert body is not None, f"no section for `clx {command}` in docs/cli.md"
        assert f"`{flag}" in body, f"`clx {command} {flag}` is missing from docs/cli.md"


def test_help_text_reaches_the_page() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert "`--stall-timeout STALL_TIMEOUT`: report and stop when no job finishes" in page
    assert "- `--lang LANG`: de, en (repeatable)" in page
    assert "--json-report" not in page and "--log-level" not in page  # suppressed


def test_check_mode_reports_a_stale_page(tmp_path, monkeypatch, capsys) -> None:
    gen = _generator()
    stale = tmp_path / "cli.md"
    stale.write_text("# CLI reference\n", encoding="utf-8")
    monkeypatch.setattr(gen, "TARGET", stale)
    assert gen.main(["--check"]) == 1
    assert "run `python scripts/gen_cli_docs.py`" in capsys.readouterr().err
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0


def test_generator_covers_what_new_commands_bring() -> None:
    """Commands other helpers add (deeper sub-commands, aliases, version flags, choices,
    groups, nargs) appear without touching the generator."""
    import argparse

    p = argparse.ArgumentParser(prog="clx")
    p.add_argument("--version", action="version", version="clx 9")
    sub = p.add_subparsers(dest="command")
    serve = sub.add_parser("serve", aliases=["live"], help="serve the pages <while> building")
    serve.add_argument("spec", help="course spec")
    serve.add_argument("--port", type=int, default=8000, help="TCP port")
    serve.add_argument("--format", action="append", choices=["html", "slides"], help="formats")
    serve.add_argument("--pair", nargs=2, metavar=("A", "B"), help="two values")
    grp = serve.add_argument_group("queue", "where jobs go")
    grp.add_argument("--queue", metavar="URL", help="sqlite path or postgresql://…")
    tools = sub.add_parser("tools", help="tool commands")
    tools_sub = tools.add_subparsers(dest="tools_command")
    deep = tools_sub.add_parser("check", help="check *all* tools")
    deep.add_argument("names", nargs="+", help="tool names")
    page = _generator().render(p)
    for expected in (
        "- `--version`: show program's version number and exit",
        "## `clx serve`",
        "Also spelt `live`.",
        "Serve the pages &lt;while> building.",
        "clx serve [options] spec",
        "- `--port PORT`: TCP port (default: `8000`)",
        "- `--format {html,slides}`: formats (repeatable)",
        "- `--pair A B`: two values",
        "Queue:\n\nwhere jobs go\n\n- `--queue URL`: sqlite path or postgresql://…",
        "### `clx tools check`",
        "Check \\*all\\* tools.",
        "clx tools check names [names ...]",
        "- [`clx tools check`](#clx-tools-check): check \\*all\\* tools",
    ):
        assert expected in page, expected
