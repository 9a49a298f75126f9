"""`clx doctor`: check every tool a build may need, all at once, each with its fix.

A check is a function returning findings; ``CHECKS`` lists them in report order and
``@check`` adds one (e.g. a listing of the installed Jupyter kernels), so a new tool is
one function, not a change to the command. A check that raises becomes one failed
finding naming the exception, so one broken tool never hides the others.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Finding:
    name: str  # what was checked, e.g. "java" or "page asset mathjax@3.2.2"
    ok: bool
    detail: str  # version or path when ok, what is wrong otherwise
    fix: str = ""  # the command that fixes it (empty when ok)
    needed_for: str = ""  # which outputs depend on it

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


Check = Callable[[], Iterable[Finding]]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    """Register a check (decorator); checks run in registration order."""
    CHECKS.append(fn)
    return fn


def run_checks(checks: Iterable[Check] | None = None) -> list[Finding]:
    out: list[Finding] = []
    for fn in CHECKS if checks is None else checks:
        try:
            out.extend(fn())
        except Exception as e:  # noqa: BLE001 - one broken check must not hide the rest
            name = fn.__name__.removeprefix("check_").replace("_", " ")
            out.append(Finding(name, False, f"the check itself failed: {e}", "report this"))
    return out


def render_text(findings: list[Finding]) -> str:
    width = max((len(f.name) for f in findings), default=0)
    lines = []
    for f in findings:
        lines.append(f"{'ok' if f.ok else 'MISSING':8} {f.name.ljust(width)}  {f.detail}")
        if not f.ok:
            if f.needed_for:
                lines.append(f"{'':8} {'':{width}}  needed for: {f.needed_for}")
            lines.append(f"{'':8} {'':{width}}  fix: {f.fix}")
    bad = sum(not f.ok for f in findings)
    lines.append("all tools found" if not bad else f"{bad} of {len(findings)} missing")
    return "\n".join(lines)


def _apt(package: str) -> str:
    return f"sudo apt-get install --no-install-recommends {package}"


def _executable(name: str, package: str, version: Callable, needed_for: str) -> Finding:
    from pathlib import Path

    found = shutil.which(name)
    if not found:
        return Finding(name, False, "not on PATH", _apt(package), needed_for)
    return Finding(name, True, f"{version(Path(found))} ({found})")


def _configuration(name: str, locate: Callable[[], object], needed_for: str) -> Finding:
    from clx.problems import ConfigurationError

    try:
        where = locate()
    except ConfigurationError as e:
        message = str(e)
        why, _, fix = message.partition("; install it with: ")
        return Finding(name, False, why, fix or "clx setup", needed_for)
    return Finding(name, True, str(where))


@check
def check_python() -> Iterable[Finding]:
    from importlib import metadata

    yield Finding("clx", True, f"{metadata.version('clx')} (Python {sys.version.split()[0]})")


# The kernels clx's set-up installs, and what needs each (docs/languages.md).
_SET_UP_KERNELS = {
    "python3": ("executed HTML of Python", f"{sys.executable} -m pip install ipykernel"),
    "java": ("executed HTML of Java", "scripts/setup.sh (jjava from PyPI, a JDK with jshell)"),
    "deno": ("executed HTML of TypeScript", "clx setup (deno from npm)"),
}


@check
def check_notebook_kernels() -> Iterable[Finding]:
    """Every Jupyter kernel found, with its version; the set-up's three must be there."""
    from clx.notebooks.kernelspecs import installed_kernels

    found = {k.name: k for k in installed_kernels()}
    for name, (needed_for, fix) in _SET_UP_KERNELS.items():
        kernel = found.pop(name, None)
        if kernel is None:
            yield Finding(f"{name} kernel", False, f"no kernelspec {name}", fix, needed_for)
        else:
            yield Finding(f"{name} kernel", True, f"{kernel.version} ({kernel.resource_dir})")
            if name == "java":
                yield _java_compiler(kernel.argv)
    for name, kernel in sorted(found.items()):
        yield Finding(f"{name} kernel", True, f"{kernel.version} ({kernel.resource_dir})")


def _java_compiler(argv: tuple[str, ...]) -> Finding:
    """jjava compiles every cell with JShell: the JVM it runs on must be a JDK's (PlantUML's
    ``java`` may be a JRE's, which has no ``jdk.jshell``)."""
    import subprocess

    java = shutil.which(argv[0] if argv else "java") or (argv[0] if argv else "java")
    try:
        r = subprocess.run(
            [java, "--list-modules"], capture_output=True, text=True, timeout=30, check=False
        )
        modules = r.stdout
    except (OSError, subprocess.SubprocessError) as e:
        modules = f"cannot run {java}: {e}"
    needed_for = "executed HTML of Java"
    if "jdk.jshell@" in modules:
        return Finding("java kernel JDK", True, f"jdk.jshell in {java}")
    return Finding(
        "java kernel JDK",
        False,
        f"{java} has no jdk.jshell module (a JRE?)",
        _apt("openjdk-17-jdk-headless"),
        needed_for,
    )


@check
def check_plantuml() -> Iterable[Finding]:
    from clx.diagrams import tools

    need = "PlantUML diagrams (pu/*.pu)"
    yield _executable("java", "default-jre-headless", tools.java_version, need)
    yield _executable("dot", "graphviz", tools.graphviz_version, need)
    yield _configuration("plantuml jar", tools.find_plantuml_jar, need)


@check
def check_drawio() -> Iterable[Finding]:
    from clx.diagrams import tools
    from clx.install.pins import DRAWIO, DRAWIO_MATHJAX, DRAWIO_STENCILS

    need = "draw.io diagrams (drawio/*.drawio)"
    yield _executable("chromium", "chromium", tools.chromium_version, need)
    yield _configuration(f"draw.io web app {DRAWIO.spec}", tools.drawio_app_dir, need)
    yield _configuration(f"draw.io MathJax {DRAWIO_MATHJAX.spec}", tools.drawio_mathjax_dir, need)
    yield _configuration(
        f"draw.io stencils {DRAWIO_STENCILS.spec}", tools.find_drawio_stencils, need
    )


@check
def check_page_assets() -> Iterable[Finding]:
    from clx.pipeline.assets import BUNDLES, MissingBundle, package_dir

    for bundle in BUNDLES.values():
        try:
            where = package_dir(bundle)
        except MissingBundle as e:
            why = str(e).partition("; install it with: ")[0]
            yield Finding(f"page asset {bundle.spec}", False, why, "clx setup", "HTML pages")
            continue
        yield Finding(f"page asset {bundle.spec}", True, str(where))


@check
def check_npm() -> Iterable[Finding]:
    """npm matters only while `clx setup` still has something to install."""
    from clx.install.tool_setup import missing_npm
    from clx.toolhome import tool_prefixes

    found = shutil.which("npm")
    if found:
        yield Finding("npm", True, found)
    elif all(missing_npm(p) for p in tool_prefixes()):
        yield Finding("npm", False, "not on PATH", _apt("npm"), "clx setup")
    else:
        yield Finding("npm", True, "not on PATH (not needed: the npm tools are installed)")
