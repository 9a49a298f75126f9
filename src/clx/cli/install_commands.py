"""`clx setup`, `clx doctor` and `clx init`: getting clx ready for one's own courses."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from clx.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def setup(args: argparse.Namespace) -> int:
    from clx.install.tool_setup import SetupError, setup_tools
    from clx.toolhome import user_tool_dir

    prefix = Path(args.prefix).resolve() if args.prefix else user_tool_dir()
    try:
        done = setup_tools(prefix, echo=lambda line: print(line, file=sys.stderr, flush=True))
    except SetupError as e:
        print(f"clx: {e}", file=sys.stderr)
        return EXIT_FAILED
    state = f"installed {', '.join(done)}" if done else "everything was installed already"
    print(f"clx setup: {state} ({prefix})")
    print("System tools are not installed by clx setup; `clx doctor` checks them.")
    return EXIT_OK


def doctor(args: argparse.Namespace) -> int:
    from clx.install.doctor import render_text, run_checks

    findings = run_checks()
    ok = all(f.ok for f in findings)
    if args.output == "json":
        print(json.dumps({"ok": ok, "tools": [f.to_dict() for f in findings]}, indent=1))
    else:
        print(render_text(findings))
    return EXIT_OK if ok else EXIT_FAILED


def init(args: argparse.Namespace) -> int:
    from clx.install.scaffold import ScaffoldError, scaffold

    target = Path(args.dir)
    try:
        scaffold(target)
    except ScaffoldError as e:
        print(f"clx: {e}", file=sys.stderr)
        return EXIT_USAGE
    spec = target / "course-specs" / "course.xml"
    print(f"created a bilingual starter course in {target}; build it with:\n  clx build {spec}")
    return EXIT_OK
