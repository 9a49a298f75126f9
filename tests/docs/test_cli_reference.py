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
