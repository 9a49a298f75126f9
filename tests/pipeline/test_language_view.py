"""The source as one language sees it (the cache key's view), and its memo."""

from __future__ import annotations

from pathlib import Path

from clx.course.variants import Format
from clx.pipeline.language_view import LanguageView, ViewMemo, language_view

TEXT = """# %% [markdown] lang="de"
# Hallo

# %% [markdown] lang="en"
# Hello

# %%
x = 1
"""


def view(text: str, lang: str, templates: dict[str, str] | None = None) -> LanguageView:
    return language_view(
        text,
        prog_lang="python",
        lang=lang,
        formats=[Format.HTML, Format.CODE],
        author="",
        organization="",
        topic_files={},
        read_blob=lambda _: b"",
        notebook_dir="",
        course_templates=templates or {},
        name="01 X",
        source_name="slides/x.py",
    )


def test_the_other_languages_text_is_not_seen() -> None:
    edited = TEXT.replace("Hello", "Hello there")
    assert view(edited, "de") == view(TEXT, "de")
    assert view(edited, "en").digest != view(TEXT, "en").digest
    assert view(TEXT.replace("x = 1", "x = 2"), "de").digest != view(TEXT, "de").digest


def test_what_the_other_language_can_change_is_seen() -> None:
    # its tags (the warnings every job reports) and whether it is empty (cell positions)
    tagged = TEXT.replace('lang="en"', 'lang="en" tags=["privat"]')
    assert view(tagged, "de").digest != view(TEXT, "de").digest
    emptied = TEXT.replace("# Hello\n", "")
    assert view(emptied, "de").digest != view(TEXT, "de").digest
    # its text when it equals a kept cell's (cell ids of equal sources depend on position)
    clash = TEXT.replace("# Hello", "x = 1")
    assert view(clash, "de").digest != view(TEXT.replace("# Hello", "x = 11"), "de").digest
    # where its lines are: not in the key, but recorded for problems' lines
    longer = TEXT.replace("# Hello", "# Hello\n# World")
    assert view(longer, "de").digest == view(TEXT, "de").digest
    assert view(longer, "de").lines_digest != view(TEXT, "de").lines_digest


def test_templates_used_and_template_failures() -> None:
    templates = {"a.j2": "# %%\na = 1\n", "b.j2": "# %%\nb = 1\n"}
    v = view(TEXT + '# j2 include "a.j2"\n', "de", templates)
    assert v.templates_used == ("a.j2",)
    broken = view(TEXT + "# {{ nirgends }}\n", "de", templates)
    assert broken.templates_used is None
    # the raw source counts then, the other language's text included
    other = (TEXT + "# {{ nirgends }}\n").replace("Hello", "Hi")
    assert broken.digest != view(other, "de").digest


def test_memo_remembers_views_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "views.json"
    calls = []

    def compute() -> LanguageView:
        calls.append(1)
        return view(TEXT, "de")

    memo = ViewMemo(path, clock=lambda: 1000.0)
    first = memo.view(["inputs"], compute)
    memo.save()
    again = ViewMemo(path, clock=lambda: 2000.0).view(["inputs"], compute)
    assert again == first and len(calls) == 1
    # forgotten after a month unused; a damaged file is just recomputed
    old = ViewMemo(path, clock=lambda: 1000.0 + 31 * 86400)
    old.view(["other"], compute)
    old.save()
    assert ViewMemo(path).view(["inputs"], compute) == first and len(calls) == 3
    path.write_text("{not json")
    assert ViewMemo(path).view(["inputs"], compute) == first


def parsed_de(text: str) -> list[tuple[str, str]]:
    """The German cells as the notebook engine parses them (what the outputs hold)."""
    from clx.notebooks.cells import parse_cells
    from clx.notebooks.tags import in_language
    from clx.notebooks.templating import expand

    expanded = expand(
        text,
        prog_lang="python",
        lang="de",
        fmt=Format.HTML,
        author="",
        organization="",
        beside={},
        notebook_dir="",
        course_templates={},
        name="01 X",
        source_name="slides/x.py",
    )
    return [(c.id, c.source) for c in parse_cells(expanded, "py:percent") if in_language(c, "de")]


def test_cells_are_the_parsers_cells_not_every_marker_like_line() -> None:
    # Jupytext starts no cell at a marker-like line inside a string or a fenced block,
    # and does start one at "# In[ ]:"; the view must cut where the parser cuts, or an
    # edit of German text is taken for English text and the German job is a stale hit.
    in_string = '# %% lang="de"\ns = """\n# %% lang="en"\nHallo\n"""\nprint(s)\n'
    in_fence = '# %% [markdown] lang="de"\n# ```python\n# # %% lang="en"\n# Hallo\n# ```\n'
    after_other = '# %% lang="en"\nprint("hi")\n\n# In[ ]:\nx = 1\n'
    for text, old, new in [
        (in_string, "Hallo", "Welt"),
        (in_fence, "Hallo", "Welt"),
        (after_other, "x = 1", "x = 2"),
    ]:
        edited = text.replace(old, new)
        assert parsed_de(edited) != parsed_de(text)
        assert view(edited, "de").digest != view(text, "de").digest, text


def test_a_jupytext_header_no_cell_holds_is_seen() -> None:
    header = "# ---\n# jupyter:\n#   kernelspec:\n#     name: python3\n# ---\n\n"
    other = header.replace("python3", "python2")
    assert view(header + TEXT, "de").digest != view(other + TEXT, "de").digest


def test_a_lang_value_that_is_no_string_is_a_cell_of_no_language() -> None:
    # the engine warns about it (it appears in no output); the view keeps it whole
    odd = TEXT.replace('lang="en"', 'lang=["en"]')
    assert view(odd, "de").digest != view(odd.replace("Hello", "Hi"), "de").digest
