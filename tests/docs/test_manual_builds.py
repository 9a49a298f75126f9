"""The manual renders: `mkdocs build --strict` turns any warning (a broken link, a page
missing from the nav, an anchor that does not exist) into a failure."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(site),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert r.returncode == 0, f"mkdocs build --strict failed:\n{r.stdout}\n{r.stderr}"
    pages = {p.relative_to(ROOT / "docs").with_suffix("") for p in (ROOT / "docs").rglob("*.md")}
    for page in pages:
        html = site / ("index.html" if page.name == "index" else f"{page}/index.html")
        assert html.is_file(), f"docs/{page}.md was not rendered"
    # Like clx's own pages, the manual loads nothing from another host (no CDN).
    remote = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=[\"']?(?:https?:)?//", re.I)
    for html in site.rglob("*.html"):
        found = remote.search(html.read_text(encoding="utf-8"))
        assert found is None, f"{html.relative_to(site)} loads {found.group(0)}"
