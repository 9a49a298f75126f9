"""Files the pages of an output tree share, copied into it once (MathJax, reveal.js, …).

A page that loads its scripts from a CDN does not work offline: not in a lecture hall
without network, not from a USB stick. So every script, style sheet and font a
generated page needs comes from a pinned npm package (installed under ``sys.prefix`` by
``scripts/setup.sh``, or into the per-user tool folder by ``clx setup``), is copied to
``<tree>/clx-assets/<bundle>/`` of each output tree (``<tier>/<Lang>/<course>``, the
folder from ``clx.course.layout``) that has a page needing it, and is linked relatively
from the pages, so they also work from ``file://``.

The copies are ordinary planned copies: written only when their bytes change, listed in
the manifest (removed again when no page needs them), byte for byte the package's own
files. ``NEEDS`` says which bundles the pages of a format load; a new page kind adds its
bundles there and to ``BUNDLES``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from clx.course.outputs import CopyOutput, OutputPlan
from clx.course.variants import Format
from clx.problems import Category, Problem
from clx.toolhome import tool_prefixes


@dataclass(frozen=True)
class Bundle:
    """Files of one npm package, copied as ``clx-assets/<name>/<target path>``."""

    name: str
    package: str  # npm package name
    version: str  # pinned: `clx setup` and scripts/setup.sh install exactly this
    # (path inside the package, path inside the bundle folder); a source ending in "/"
    # is every file of that folder (not recursive), in name order.
    files: tuple[tuple[str, str], ...]

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


MATHJAX = Bundle(
    "mathjax",
    "mathjax",
    "3.2.2",
    (
        # TeX and MathML input, CommonHTML output and the menu in one file; the TeX
        # extensions it loads on first use and the fonts, both relative to its own URL.
        ("es5/tex-mml-chtml.js", "tex-mml-chtml.js"),
        ("es5/input/tex/extensions/", "input/tex/extensions/"),
        ("es5/output/chtml/fonts/woff-v2/", "output/chtml/fonts/woff-v2/"),
        ("LICENSE", "LICENSE"),
    ),
)
# The classic notebook page loads require.js and jQuery for outputs that use them.
REQUIREJS = Bundle("requirejs", "requirejs", "2.3.7", (("require.js", "require.js"),))
JQUERY = Bundle(
    "jquery",
    "jquery",
    "3.7.1",
    (("dist/jquery.min.js", "jquery.min.js"), ("LICENSE.txt", "LICENSE.txt")),
)
# reveal.js with the plugins a deck uses (clx.notebooks.slides links exactly these).
REVEAL = Bundle(
    "reveal.js",
    "reveal.js",
    "6.0.2",
    (
        ("dist/reset.css", "reset.css"),
        ("dist/reveal.css", "reveal.css"),
        ("dist/reveal.js", "reveal.js"),
        ("dist/theme/white.css", "theme/white.css"),
        ("dist/plugin/notes.js", "plugin/notes.js"),
        ("dist/plugin/highlight.js", "plugin/highlight.js"),
        ("dist/plugin/highlight/monokai.css", "plugin/highlight/monokai.css"),
        ("dist/plugin/math.js", "plugin/math.js"),
        ("LICENSE", "LICENSE"),
    ),
)
BUNDLES = {b.name: b for b in (MATHJAX, REQUIREJS, JQUERY, REVEAL)}

# Which bundles the pages of a format load (clx/notebooks/page/clx_page.html.j2 for HTML,
# clx/notebooks/slides.py for decks).
NEEDS: dict[Format, tuple[Bundle, ...]] = {
    Format.HTML: (MATHJAX, REQUIREJS, JQUERY),
    Format.SLIDES: (REVEAL, MATHJAX),
}


class MissingBundle(FileNotFoundError):
    """A bundle's package is not installed (or not the pinned version)."""


def package_dir(bundle: Bundle, prefixes: Iterable[Path] | None = None) -> Path:
    """The first ``node_modules/<package>`` with the pinned version among the tool
    prefixes (the environment's own prefix, then the per-user tool folder)."""
    candidates = [Path(p) / "node_modules" / bundle.package for p in prefixes or tool_prefixes()]
    found = []
    for root in candidates:
        try:
            version = json.loads((root / "package.json").read_text(encoding="utf-8"))["version"]
        except (OSError, ValueError, KeyError):
            continue
        if version == bundle.version:
            return root
        found.append(f"{version} in {root}")
    have = f" (found {', '.join(found)})" if found else ""
    raise MissingBundle(f"{bundle.spec} is not installed{have}; install it with: clx setup")


def bundle_files(bundle: Bundle, prefixes: Iterable[Path] | None = None) -> list[tuple[Path, str]]:
    """(source file, path inside the bundle folder) of every file, in a fixed order."""
    root = package_dir(bundle, prefixes)
    out: list[tuple[Path, str]] = []
    for inside, target in bundle.files:
        if inside.endswith("/"):
            folder = root / inside
            files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
            if not files:
                raise MissingBundle(
                    f"{bundle.spec}: {inside} is empty under {root}; reinstall it with: clx setup"
                )
            out += [(p, target + p.name) for p in files]
        elif (root / inside).is_file():
            out.append((root / inside, target))
        else:
            raise MissingBundle(
                f"{bundle.spec}: {inside} missing under {root}; reinstall it with: clx setup"
            )
    return out


def asset_copies(plan: OutputPlan, prefixes: Iterable[Path] | None = None) -> list[CopyOutput]:
    """The copies that give every output tree the bundles its planned pages need.

    A missing package is one configuration error in ``plan.errors``: the pages are still
    written, and work once the package is installed and the course built again.
    """
    wanted: dict[tuple[str, str], set[str]] = {}
    for nb in plan.notebooks:
        for v in nb.paths:
            for bundle in NEEDS.get(v.format, ()):
                wanted.setdefault((v.tier, v.lang), set()).add(bundle.name)
    listed: dict[str, list[tuple[Path, str]]] = {}
    copies: list[CopyOutput] = []
    for (tier, lang), names in sorted(wanted.items()):
        base = plan.layout.assets_dir(tier, lang)
        for name in sorted(names):
            bundle = BUNDLES[name]
            if name not in listed:
                try:
                    listed[name] = bundle_files(bundle, prefixes)
                except OSError as e:
                    plan.errors.append(Problem(str(e), category=Category.CONFIGURATION))
                    listed[name] = []
            for source, target in listed[name]:
                copies.append(
                    CopyOutput(source, f"{bundle.spec}/{target}", base / name / target, "asset")
                )
    return copies


def add_asset_copies(plan: OutputPlan, prefixes: Iterable[Path] | None = None) -> None:
    """Add the asset copies to ``plan.copies`` (kept sorted by target)."""
    extra = asset_copies(plan, prefixes)
    if extra:
        plan.copies = sorted([*plan.copies, *extra], key=lambda c: c.target)
