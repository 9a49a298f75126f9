"""Every command and flag is reachable and documented."""

from __future__ import annotations

import subprocess
import sys

import pytest

from clx.cli.main import build_parser

COMMANDS = [
    ["plan"],
    ["build"],
    ["status"],
    ["jobs", "list"],
    ["jobs", "retry"],
    ["jobs", "cancel"],
    ["workers", "list"],
    ["workers", "stop"],
    ["cache", "explain"],
    ["cache", "clear"],
]


def test_top_level_help_lists_every_command() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "clx.cli.main", "--help"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0
    for name in ("plan", "build", "status", "jobs", "workers", "cache"):
        assert name in r.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_command_help(command: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args([*command, "--help"])
    assert e.value.code == 0
    assert "spec" in capsys.readouterr().out


def test_build_flags_default_to_none_so_config_files_can_fill_them() -> None:
    args = build_parser().parse_args(["build", "c.xml"])
    assert (
        args.workers,
        args.cell_timeout,
        args.image_format,
        args.stall_timeout,
        args.output_dir,
    ) == (None,) * 5
    assert args.output == "text" and not args.quiet
