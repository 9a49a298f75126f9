"""The hand-written pages name every key, field, tag and language the code knows.

These are the facts a reader looks up; when a helper adds one in the code and forgets
the page, this fails and names what is missing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from clx.cli import config
from clx.course.ignore import IGNORED_DIR_PARTS, IGNORED_DIRS, IGNORED_FILE_SUFFIXES
from clx.course.languages import LANGUAGES
from clx.course.variants import Kind
from clx.notebooks import tags

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_clx_toml_key_is_documented() -> None:
    page = _page("configuration.md")
    missing = [key for key in config._KEYS if f"| `{key}` |" not in page]
    assert not missing, f"docs/configuration.md lacks a table row for: {missing}"
    # Every table the module's docstring shows has its section.
    tables = re.findall(r"^\s*\[([\w-]+)\]\s*$", config.__doc__ or "", re.M)
    assert "build" in tables
    missing = [t for t in tables if f"## The `[{t}]` table" not in page]
    assert not missing, f"docs/configuration.md has no section for the tables: {missing}"


def test_every_report_field_is_documented() -> None:
    schema = json.loads(_page("build-report.schema.json"))
    page = _page("report.md")
    fields = [*schema["properties"], *schema["$defs"]["problem"]["properties"]]
    missing = [name for name in fields if f"| `{name}` |" not in page]
    assert not missing, f"docs/report.md lacks a table row for the report fields: {missing}"
    nested = {name for prop in schema["properties"].values() for name in prop.get("properties", {})}
    missing = sorted(name for name in nested if f"`{name}`" not in page)
    assert not missing, f"docs/report.md does not name the report fields: {missing}"


def test_every_tag_and_language_is_in_the_course_reference() -> None:
    page = _page("course-reference.md")
    missing = [f"tag {t}" for t in sorted(tags.KNOWN_TAGS) if f"| `{t}` |" not in page]
    missing += [f"language {lang}" for lang in LANGUAGES if f"| `{lang}` |" not in page]
    missing += [f"ignored folder {d}" for d in sorted(IGNORED_DIRS) if f"`{d}`" not in page]
    assert not missing, f"docs/course-reference.md does not cover: {missing}"


def test_language_table_matches_the_language_rows() -> None:
    page = _page("course-reference.md")
    for lang in LANGUAGES.values():
        row = (
            f"| `{lang.id}` | `{lang.suffix}` | `{lang.comment}` | `{lang.jinja_prefix}` "
            f"| `{lang.jupytext_format}` | `{lang.kernel_name}` ({lang.kernel_display_name}) "
            f"| `{lang.code_folder}` |"
        )
        assert row in page, f"docs/course-reference.md: the {lang.id} row should read\n{row}"


def test_kind_table_matches_the_deletion_rules() -> None:
    page = _page("course-reference.md")
    cells = [", ".join(f"`{t}`" for t in sorted(tags.DELETED_BY[k])) for k in Kind]
    row = "| cells removed when tagged | " + " | ".join(cells) + " |"
    assert row in page, f"docs/course-reference.md: the deletion row should read\n{row}"
    missing = [p for p in (*IGNORED_DIR_PARTS, *IGNORED_FILE_SUFFIXES) if f"`{p}`" not in page]
    assert not missing, f"docs/course-reference.md: ignore rules missing {missing}"
