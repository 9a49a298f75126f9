"""Write docs/cli.md, the CLI reference, from the argparse parser of `clx`.

The parser in src/clx/cli/main.py is the single source of every command, flag and help
text; this script walks it (any depth of sub-commands, argument groups, aliases) so a new
command or flag appears in the reference without touching this file. The usage lines are
composed here rather than taken from argparse's formatter, whose layout changes between
Python versions and terminal widths: the page must be the same wherever it is generated.

    python scripts/gen_cli_docs.py          # rewrite docs/cli.md
    python scripts/gen_cli_docs.py --check  # exit 1 if docs/cli.md is out of date

tests/test_cli_reference.py fails when the page and the parser disagree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "cli.md"
REGENERATE = "python scripts/gen_cli_docs.py"

INTRO = """\
# CLI reference

<!-- Generated from the argparse parser in src/clx/cli/main.py by scripts/gen_cli_docs.py.
     Do not edit by hand: change the parser, then run `python scripts/gen_cli_docs.py`. -->

Every command and flag of `clx`, with the help text `clx COMMAND --help` prints. Most
commands take the course spec (`course-specs/NAME.xml`) as their first argument; the course
root is the parent of the spec's folder unless `--course-root` says otherwise.

Exit status: `0` everything succeeded, `1` a job, a copy or the command failed, `2` a usage,
configuration or spec error (printed as `clx: …`, nothing is built). Every command accepts
`-h`/`--help`.

Defaults for the build flags come from `clx.toml` (see [clx.toml](configuration.md)); a flag
given on the command line wins. Flags marked (repeatable) may be given several times, and
their values may also be comma-separated (`--lang de,en`).
"""


def _sub_action(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, list[str], str, object]]:
    """(name, aliases, help, sub-parser) for each sub-command, in the order they were added."""
    sub = _sub_action(parser)
    if sub is None:
        return []
    helps = {a.dest: a.help or "" for a in sub._choices_actions}
    seen: dict[int, tuple[str, list[str], str, object]] = {}
    for name, child in sub.choices.items():
        if id(child) in seen:
            seen[id(child)][1].append(name)
        else:
            seen[id(child)] = (name, [], helps.get(name, ""), child)
    return list(seen.values())


def _visible(action: argparse.Action) -> bool:
    return action.help is not argparse.SUPPRESS and not isinstance(
        action, argparse._HelpAction | argparse._SubParsersAction
    )


def _expand_help(action: argparse.Action) -> str:
    """The help text with argparse's %(default)s-style placeholders filled in."""
    text = action.help or ""
    if "%" in text:
        params = {k: v for k, v in vars(action).items() if v is not argparse.SUPPRESS}
        if params.get("choices") is not None:
            params["choices"] = ", ".join(map(str, action.choices))
        params["prog"] = "clx"
        text = text % params
    return _escape(" ".join(text.split()))


def _escape(text: str) -> str:
    """Help text as literal Markdown: no emphasis from `*.xml`, no HTML from `<course root>`."""
    out = []
    for i, chunk in enumerate(text.split("`")):
        if i % 2 == 0:  # outside `code`
            chunk = chunk.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")
            chunk = chunk.replace("<", "&lt;")
        out.append(chunk)
    return "`".join(out)


def _metavar(action: argparse.Action) -> str:
    if isinstance(action.metavar, tuple):
        return " ".join(action.metavar)
    if action.metavar is not None:
        return str(action.metavar)
    if action.choices is not None:
        return "{" + ",".join(map(str, action.choices)) + "}"
    return action.dest if not action.option_strings else action.dest.upper()


def _value_part(action: argparse.Action) -> str:
    """What follows an option string: '' for flags, ' N', ' [N ...]' and so on."""
    if action.nargs == 0:
        return ""
    m = _metavar(action)
    if isinstance(action.nargs, int):
        return " " + (m if isinstance(action.metavar, tuple) else " ".join([m] * action.nargs))
    forms = {"?": f" [{m}]", "*": f" [{m} ...]", "+": f" {m} [{m} ...]"}
    return forms.get(action.nargs, f" {m}")


def _positional_usage(action: argparse.Action) -> str:
    m = _metavar(action)
    return {"?": f"[{m}]", "*": f"[{m} ...]", "+": f"{m} [{m} ...]"}.get(action.nargs, m)


def _describe(action: argparse.Action) -> str:
    parts = [_expand_help(action)]
    if isinstance(action, argparse._AppendAction):
        parts.append("(repeatable)")
    default = action.default
    if (
        action.option_strings
        and action.nargs != 0
        and default not in (None, argparse.SUPPRESS, [])
        and "default" not in parts[0]
    ):
        parts.append(f"(default: `{default}`)")
    return " ".join(p for p in parts if p)


def _usage(path: list[str], parser: argparse.ArgumentParser) -> str:
    words = ["clx", *path]
    actions = [a for a in parser._actions if _visible(a)]
    if any(a.option_strings for a in actions):
        words.append("[options]")
    words += [_positional_usage(a) for a in actions if not a.option_strings]
    children = _subcommands(parser)
    if children:
        words.append("{" + ",".join(name for name, *_ in children) + "} ...")
    return " ".join(words)


def _section(path: list[str], parser: argparse.ArgumentParser, help_: str, aliases: list[str]):
    level = "#" * min(len(path) + 1, 6)
    out = [f"{level} `clx {' '.join(path)}`".rstrip() if path else "## `clx`", ""]
    text = _escape(" ".join((parser.description or help_).split()))
    if text:
        out += [text[0].upper() + text[1:] + ("" if text.endswith(".") else "."), ""]
    if aliases:
        out += ["Also spelt " + ", ".join(f"`{a}`" for a in aliases) + ".", ""]
    out += ["```text", _usage(path, parser), "```", ""]

    positionals = [a for a in parser._actions if _visible(a) and not a.option_strings]
    if positionals:
        out += ["Arguments:", ""]
        out += [f"- `{_positional_usage(a)}`: {_describe(a)}" for a in positionals]
        out.append("")
    for group in parser._action_groups:
        options = [a for a in group._group_actions if _visible(a) and a.option_strings]
        if not options:
            continue
        title = group.title if group.title not in (None, "options", "optional arguments") else ""
        out += [f"{title[0].upper() + title[1:]}:" if title else "Options:", ""]
        if group.description:
            out += [_escape(" ".join(group.description.split())), ""]
        for a in options:
            spelled = ", ".join(f"`{s}{_value_part(a)}`" for s in a.option_strings)
            out.append(f"- {spelled}: {_describe(a)}")
        out.append("")
    children = _subcommands(parser)
    if children:
        out += ["Commands:", ""]
        for name, _, child_help, _child in children:
            anchor = "-".join(["clx", *path, name])
            out.append(f"- [`clx {' '.join([*path, name])}`](#{anchor}): {_escape(child_help)}")
        out.append("")
    return out


def render(parser: argparse.ArgumentParser) -> str:
    """The whole page for `parser` (deterministic: same parser, same text)."""
    lines = [INTRO]
    lines += _section([], parser, "", [])

    def walk(path: list[str], p: argparse.ArgumentParser) -> None:
        for name, aliases, help_, child in _subcommands(p):
            lines.extend(_section([*path, name], child, help_, aliases))
            walk([*path, name], child)

    walk([], parser)
    return "\n".join(lines).rstrip("\n") + "\n"


def option_strings(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """(command path, option string) for every visible flag: what the reference must list."""
    found: list[tuple[str, str]] = []

    def walk(path: list[str], p: argparse.ArgumentParser) -> None:
        for a in p._actions:
            if _visible(a):
                found.extend((" ".join(path), s) for s in a.option_strings)
        for name, _, _, child in _subcommands(p):
            walk([*path, name], child)

    walk([], parser)
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate docs/cli.md from the clx parser.")
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/cli.md is out of date")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from clx.cli.main import build_parser

    text = render(build_parser())
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"docs/cli.md is out of date: run `{REGENERATE}`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
