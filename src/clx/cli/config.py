"""`clx.toml`: per-course and per-user defaults for the build options.

Precedence, highest first: command-line flags, ``<course root>/clx.toml``, the user config
(``$XDG_CONFIG_HOME/clx/clx.toml``, default ``~/.config/clx/clx.toml``), the built-in
defaults in ``DEFAULTS``. The built-in defaults live only here: the argument parser leaves
every such flag at ``None`` so that "not given" can be told apart from "given the default".

A config file holds one table::

    [build]
    workers = 4            # notebook workers (default: CPU count)
    plantuml-workers = 1   # PlantUML workers, each with its own JVM (default 1)
    drawio-workers = 1     # draw.io workers, each with its own Chromium (default 1)
    cell-timeout = 120     # seconds per notebook cell
    image-format = "png"   # png or svg
    stall-timeout = 300    # stop when no job finishes for this many seconds
    output-dir = "output"  # relative paths are relative to the course root
    cache-keep-days = 14   # prune cache entries no build has used for this many days
    formats = ["html", "notebook", "code"]  # add "slides" for reveal.js decks
    max-output-mb = 5      # a notebook cell's outputs beyond this are cut, with a warning

    [queue]
    url = "postgresql://clx@db.example/clx"  # a PostgreSQL queue (also: CLX_QUEUE_URL)

    [execute]
    skip = ["cpp"]            # build these languages' completed/speaker HTML unexecuted
    allow-errors = ["java"]   # cells of these languages may fail (kept as warnings)

    [kernels]
    python = ".venv/bin/python"  # the course's own Python (default: .venv, else clx's)

Unknown keys and tables are warnings naming the file (a typo must not pass silently);
wrong types and values are errors (exit status 2), also naming the file.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from clx.cli.errors import UsageError
from clx.notebooks.model import DEFAULT_MAX_OUTPUT_BYTES

CONFIG_NAME = "clx.toml"


@dataclass(frozen=True)
class BuildDefaults:
    """The values a build uses when neither a flag nor a config file says otherwise."""

    workers: int | None = None  # None: one notebook worker per CPU
    plantuml_workers: int = 1
    drawio_workers: int = 1
    cell_timeout: float = 120.0
    image_format: str = "png"
    stall_timeout: float = 300.0
    output_dir: Path | None = None  # None: <course root>/output
    # A complete build (and `clx cache prune`) drops cache entries unused for this long.
    cache_keep_days: float = 14.0
    # A code cell's outputs beyond this many megabytes are truncated with a note and a warning.
    max_output_mb: float = DEFAULT_MAX_OUTPUT_BYTES / 1_000_000
    # A PostgreSQL queue URL ([queue] url); None: the course's own SQLite file.
    queue_url: str | None = None
    # What a build without --format produces; "slides" (reveal.js decks) is opt-in.
    formats: tuple[str, ...] = ("html", "notebook", "code")
    # [execute] skip / allow-errors: prog-lang ids (clx.pipeline.execution_policy).
    execute_skip: tuple[str, ...] = ()
    allow_errors: tuple[str, ...] = ()
    # [kernels] python: the interpreter Python notebooks run in (absolute; None: the
    # course's .venv if it has one, else clx's own; clx.notebooks.environments decides).
    python: Path | None = None


DEFAULTS = BuildDefaults()

# The live page (clx serve, clx build --serve): loopback only unless --host says otherwise.
SERVE_HOST = "127.0.0.1"
SERVE_PORT = 8765


def _positive_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError("expected a whole number of at least 1")
    return v


def _positive_number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
        raise ValueError("expected a number greater than 0")
    return float(v)


def _non_negative_number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
        raise ValueError("expected a number of at least 0")
    return float(v)


FORMAT_NAMES = ("html", "notebook", "code", "slides")


def _formats(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not v or not all(isinstance(f, str) for f in v):
        raise ValueError(f"expected a non-empty list of formats out of {', '.join(FORMAT_NAMES)}")
    bad = [f for f in v if f not in FORMAT_NAMES]
    if bad:
        raise ValueError(
            f"unknown format(s) {', '.join(bad)}; choose from {', '.join(FORMAT_NAMES)}"
        )
    return tuple(dict.fromkeys(v))


def _image_format(v: Any) -> str:
    if v not in ("png", "svg"):
        raise ValueError('expected "png" or "svg"')
    return v


def _text(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError("expected a non-empty string")
    return v


# TOML key -> (BuildDefaults field, validator). Keys are spelled like the flags.
_KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "workers": ("workers", _positive_int),
    "plantuml-workers": ("plantuml_workers", _positive_int),
    "drawio-workers": ("drawio_workers", _positive_int),
    "cell-timeout": ("cell_timeout", _positive_number),
    "image-format": ("image_format", _image_format),
    "stall-timeout": ("stall_timeout", _positive_number),
    "output-dir": ("output_dir", _text),
    "cache-keep-days": ("cache_keep_days", _non_negative_number),
    "formats": ("formats", _formats),
    "max-output-mb": ("max_output_mb", _positive_number),
}


@dataclass
class LoadedConfig:
    """Defaults after applying the config files, and what the files said that was odd."""

    defaults: BuildDefaults = DEFAULTS
    files: list[Path] = field(default_factory=list)  # the files that were read, lowest first
    warnings: list[str] = field(default_factory=list)


def user_config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "clx" / CONFIG_NAME


def load_config(course_root: Path, environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """User config first, then the course's: the later file wins key by key."""
    loaded = LoadedConfig()
    for path in (user_config_path(environ), course_root / CONFIG_NAME):
        if path.is_file():
            loaded.defaults = _apply(path, course_root, loaded.defaults, loaded.warnings)
            loaded.files.append(path)
    return loaded


def _apply(
    path: Path, course_root: Path, base: BuildDefaults, warnings: list[str]
) -> BuildDefaults:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise UsageError(f"{path}: cannot read the config file: {e}") from e
    for table in sorted(set(data) - {"build", "queue", "execute", "kernels"}):
        warnings.append(
            f"{path}: unknown setting '{table}' (known: [build], [queue], [execute], [kernels])"
        )
    build = data.get("build", {})
    if not isinstance(build, dict):
        raise UsageError(f"{path}: 'build' must be a table ([build])")
    changes: dict[str, Any] = {}
    for key, value in build.items():
        if key not in _KEYS:
            near = difflib.get_close_matches(key, _KEYS, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else f" (known: {', '.join(_KEYS)})"
            warnings.append(f"{path}: unknown setting 'build.{key}'{hint}")
            continue
        name, check = _KEYS[key]
        try:
            value = check(value)
        except ValueError as e:
            raise UsageError(f"{path}: build.{key} = {value!r}: {e}") from e
        if name == "output_dir":
            value = course_root / Path(value).expanduser()
        changes[name] = value
    queue = data.get("queue", {})
    if not isinstance(queue, dict):
        raise UsageError(f"{path}: 'queue' must be a table ([queue])")
    for key, value in queue.items():
        if key != "url":
            warnings.append(f"{path}: unknown setting 'queue.{key}' (known: url)")
            continue
        if not isinstance(value, str) or not value.startswith(("postgresql://", "postgres://")):
            raise UsageError(f"{path}: queue.url: expected a postgresql:// URL")
        changes["queue_url"] = value
    changes.update(_execute_table(path, data.get("execute", {}), warnings))
    changes.update(_kernels_table(path, data.get("kernels", {}), course_root, warnings))
    return replace(base, **changes)


def _kernels_table(
    path: Path, table: Any, course_root: Path, warnings: list[str]
) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise UsageError(f"{path}: 'kernels' must be a table ([kernels])")
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key != "python":
            warnings.append(f"{path}: unknown setting 'kernels.{key}' (known: python)")
            continue
        where = f"{path}:{_line_of(path, 'kernels', key)}"
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"{where}: kernels.python: expected the path of a Python interpreter")
        # Not resolved: a venv's python is a symbolic link that must stay one.
        python = Path(os.path.abspath(course_root / Path(value).expanduser()))
        if not python.is_file():
            raise UsageError(
                f"{where}: kernels.python = {value!r}: no such file {python} (relative"
                " paths are relative to the course root); create the environment, e.g."
                f" python -m venv {python.parent.parent} && {python} -m pip install ipykernel"
            )
        changes["python"] = python
    return changes


def _line_of(path: Path, table: str, key: str) -> int | str:
    """The line of ``key`` in ``[table]`` (tomllib does not say), for messages; "?" if
    it cannot be told (a dotted or inline table)."""
    current = ""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return "?"
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("["):
            current = stripped.strip("[] ")
        elif current == table and stripped.split("=", 1)[0].strip().strip("\"'") == key:
            return number
    return "?"


_EXECUTE_KEYS = {"skip": "execute_skip", "allow-errors": "allow_errors"}


def _execute_table(path: Path, table: Any, warnings: list[str]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise UsageError(f"{path}: 'execute' must be a table ([execute])")
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _EXECUTE_KEYS:
            warnings.append(f"{path}: unknown setting 'execute.{key}' (known: skip, allow-errors)")
            continue
        try:
            changes[_EXECUTE_KEYS[key]] = prog_langs(value)
        except ValueError as e:
            raise UsageError(f"{path}: execute.{key} = {value!r}: {e}") from e
    return changes


def prog_langs(value: Any) -> tuple[str, ...]:
    """A list of prog-lang ids (``["java", "cpp"]``), checked and sorted."""
    from clx.course.languages import LANGUAGES

    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of languages ({', '.join(LANGUAGES)})")
    unknown = [v for v in value if v not in LANGUAGES]
    if unknown:
        raise ValueError(f"unknown language {unknown[0]!r} (known: {', '.join(LANGUAGES)})")
    return tuple(sorted(set(value)))


def effective(flag_values: Mapping[str, Any], defaults: BuildDefaults) -> BuildDefaults:
    """Flags that were given (not None) override the defaults field by field."""
    names = {f.name for f in fields(BuildDefaults)}
    given = {k: v for k, v in flag_values.items() if k in names and v is not None}
    return replace(defaults, **given)
