"""The one module that computes output paths (docs/course-reference.md#output-layout).

Nobody else joins output path components by hand: the build, the cache, the reports
and the tests all ask this module.
"""

from __future__ import annotations

from pathlib import Path

from clx.course.languages import ProgLang
from clx.course.spec import Bilingual
from clx.course.variants import LANGS, Format, Kind, Variant

LANG_DIR = {"de": "De", "en": "En"}
SLIDES_DIR = {"de": "Folien", "en": "Slides"}
KIND_DIR = {Kind.CODE_ALONG: "Code-Along", Kind.COMPLETED: "Completed", Kind.SPEAKER: "Speaker"}
TIERS = ("public", "speaker")
MANIFEST_NAME = ".clx-manifest.json"
HOME_PAGE_NAME = "index.html"
# Files the pages of one output tree share (MathJax, require.js, …), copied once per tree
# by clx.pipeline.assets. No leading dot or underscore: static hosts hide such folders.
ASSETS_DIR = "clx-assets"


def number_label(n: int) -> str:
    return f"{n:02d}"


class Layout:
    def __init__(self, output_root: Path, course_name: Bilingual) -> None:
        self.output_root = output_root
        self.course_name = course_name

    def course_dir(self, tier: str, lang: str) -> Path:
        """One of the four root directories ``<tier>/<Lang>/<course name>``."""
        return self.output_root / tier / LANG_DIR[lang] / self.course_name[lang]

    def roots(self) -> list[Path]:
        return [self.course_dir(t, lang) for t in TIERS for lang in LANGS]

    def format_dir(self, fmt: Format, prog_lang: ProgLang) -> str:
        if fmt is Format.HTML:
            return "Html"
        if fmt is Format.NOTEBOOK:
            return "Notebooks"
        if fmt is Format.SLIDES:
            return "Slides"
        return prog_lang.code_folder

    def variant_dir(self, variant: Variant, prog_lang: ProgLang, section: Bilingual) -> Path:
        """``…/<Slides>/<Format>/<Kind>/<section>`` of one variant in one section."""
        lang = variant.lang
        return (
            self.course_dir(variant.tier, lang)
            / SLIDES_DIR[lang]
            / self.format_dir(variant.format, prog_lang)
            / KIND_DIR[variant.kind]
            / section[lang]
        )

    @staticmethod
    def extension(fmt: Format, prog_lang: ProgLang) -> str:
        return {Format.HTML: ".html", Format.SLIDES: ".html", Format.NOTEBOOK: ".ipynb"}.get(
            fmt, prog_lang.suffix
        )

    @staticmethod
    def page_title(number: int, title: str) -> str:
        """The notebook's file name without extension; also the HTML page title."""
        return f"{number_label(number)} {title}"

    def notebook_path(
        self, variant: Variant, prog_lang: ProgLang, section: Bilingual, number: int, title: str
    ) -> Path:
        name = self.page_title(number, title) + self.extension(variant.format, prog_lang)
        return self.variant_dir(variant, prog_lang, section) / name

    def dir_group_dir(self, lang: str, group_name: Bilingual) -> Path:
        """Target of a dir-group: public trees only; empty name = the course directory."""
        base = self.course_dir("public", lang)
        name = group_name[lang]
        return base / name if name else base

    def home_page(self, tier: str, lang: str) -> Path:
        """The course home page at the top of one ``<tier>/<Lang>/<course>`` tree."""
        return self.course_dir(tier, lang) / HOME_PAGE_NAME

    def assets_dir(self, tier: str, lang: str) -> Path:
        """Where the shared files of one output tree go."""
        return self.course_dir(tier, lang) / ASSETS_DIR

    def assets_href(self, variant: Variant, prog_lang: ProgLang, section: Bilingual) -> str:
        """The assets folder as a relative URL from a page of ``variant`` in ``section``."""
        page_dir = self.variant_dir(variant, prog_lang, section)
        depth = len(page_dir.relative_to(self.course_dir(variant.tier, variant.lang)).parts)
        return "/".join([".."] * depth + [ASSETS_DIR])

    def manifest_path(self) -> Path:
        return self.output_root / MANIFEST_NAME

    def relative(self, path: Path) -> str:
        """A path for messages: relative to the output root."""
        try:
            return path.relative_to(self.output_root).as_posix()
        except ValueError:
            return str(path)
