"""Which Jupyter kernels this machine has, with versions, and the Deno kernelspec clx writes.

clx's set-up installs three kernels from registry packages (docs/course-reference.md,
"Programming languages"):
``python3`` (ipykernel), ``java`` (the ``jjava`` package, which brings its own
kernelspec) and ``deno`` (the ``deno`` npm package in the venv prefix, whose binary has a
built-in kernel). ``deno jupyter --install`` would write its kernelspec into the user's
home; ``install_deno_kernelspec`` writes the same kernel into the venv's own Jupyter data
folder (``sys.prefix/share/jupyter/kernels``) instead, so a clone's set-up touches nothing
outside it.

The ``java`` kernelspec that jjava installs starts a launcher JVM that starts the kernel's
JVM; ``tune_java_kernelspec`` rewrites it (in the venv) to start the kernel's JVM directly,
with the launcher's one option and with quick-start options (C1 compiler only, serial GC):
a kernel then starts in about 1.2 s instead of 3 s here, which is what a notebook job waits
for when its spare kernel is not ready yet. ``train_java_archive`` then runs one kernel
through typical cells with ``-XX:ArchiveClassesAtExit`` and keeps the class-data archive
it writes beside the jar; every kernel maps that archive instead of loading and verifying
the JShell compiler's classes again, which cut a kernel's CPU per deck by about a fifth
here (2.2 s to 1.7 s). The JVM silently ignores an archive that does not fit its build or
the jar, so a stale archive only costs that speed until the next ``clx setup``.

``installed_kernels`` answers "which kernels, which versions" for ``clx doctor``; the
cache keys take the same versions through ``clx.notebooks.environments.kernel_identity``.

``python -m clx.notebooks.kernelspecs`` lists the kernels; ``--install`` writes the Deno
kernelspec and tunes the Java one first (scripts/setup.sh runs that).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

DENO_KERNEL = "deno"


_DENO_IN_PREFIX = Path("node_modules") / "deno" / "deno"


def deno_binary(prefix: Path | None = None) -> Path:
    """Where the ``deno`` npm package puts its binary: under ``prefix`` if given, else
    under the first tool prefix that has it (``clx.toolhome``: the venv of a checkout,
    the per-user tool folder of `clx setup`), else under the venv."""
    if prefix is None:
        from clx.toolhome import first_with

        prefix = first_with(_DENO_IN_PREFIX) or Path(sys.prefix)
    return Path(prefix) / _DENO_IN_PREFIX


def kernels_folder(prefix: Path | None = None) -> Path:
    """The venv's own Jupyter kernelspec folder (on Jupyter's search path for this venv)."""
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels"


def install_deno_kernelspec(
    prefix: Path | None = None, *, binary: Path | None = None
) -> Path | None:
    """Write the ``deno`` kernelspec into ``prefix``'s kernel folder (default: this
    environment's) for ``binary`` (default: the Deno found as ``deno_binary`` says);
    None if there is no Deno binary."""
    binary = binary or deno_binary(prefix)
    if not binary.is_file():
        return None
    folder = kernels_folder(prefix) / DENO_KERNEL
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [str(binary), "jupyter", "--kernel", "--conn", "{connection_file}"],
        "display_name": "Deno",
        "language": "typescript",
    }
    target = folder / "kernel.json"
    text = json.dumps(spec, indent=2) + "\n"
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        tmp = folder / "kernel.json.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    return target


# What jjava's launcher adds to start the kernel, then options for a quick JVM start.
JAVA_KERNEL_ARGV = [
    "java",
    "--add-opens",
    "jdk.jshell/jdk.jshell=ALL-UNNAMED",
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-XX:SharedArchiveFile={resource_dir}/jjava.jsa",
    "-Xlog:cds=off",
    "-Xlog:cds+dynamic=off",
    "-jar",
    "{resource_dir}/jjava.jar",
    "{connection_file}",
]
JAVA_ARCHIVE = "jjava.jsa"
_ARCHIVE_OPTION = "-XX:SharedArchiveFile="

# What the training kernel runs: the language features of teaching decks, so the
# classes the compiler needs for them are in the archive.
_TRAINING_CELLS = (
    "record Point(int x, int y) {}",
    "sealed interface Shape permits Circle, Square {}\n"
    "record Circle(double r) implements Shape {}\n"
    "record Square(double side) implements Shape {}",
    "double area(Shape s) {\n"
    "    return switch (s) {\n"
    "        case Circle c -> Math.PI * c.r() * c.r();\n"
    "        case Square q -> q.side() * q.side();\n"
    "    };\n}",
    'System.out.println("area " + area(new Square(6)));',
    "var xs = List.of(3, 1, 2);\nxs.stream().map(x -> x * 2).sorted().toList()",
    "new Point(1, 2)",
    'String.format("%d-%s", 42, "x")',
    'int n = "text";',
    'Object o = "s"; Integer i = (Integer) o;',
    "class Counter { private int n; void inc() { n++; } int get() { return n; } }\n"
    "var c = new Counter(); c.inc(); c.get()",
)


def tune_java_kernelspec(prefix: Path | None = None) -> Path | None:
    """Start jjava's kernel JVM directly (see above); None if there is no jjava kernelspec."""
    target = kernels_folder(prefix) / "java" / "kernel.json"
    try:
        spec = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (target.parent / "jjava.jar").is_file() or spec.get("argv") == JAVA_KERNEL_ARGV:
        return target if spec.get("argv") == JAVA_KERNEL_ARGV else None
    spec["argv"] = JAVA_KERNEL_ARGV
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(spec, indent=4) + "\n", encoding="utf-8")
    tmp.replace(target)
    return target


def train_java_archive(prefix: Path | None = None, *, timeout: float = 120.0) -> Path | None:
    """Write (or keep, if it fits this JDK and jar) the class-data archive of the tuned
    ``java`` kernelspec; None if there is no tuned jjava kernel or no archive came out.

    The archive belongs to one JDK build and one jar: a stamp beside it records both, so
    an unchanged set-up does not train again.
    """
    import os
    import tempfile

    folder = kernels_folder(prefix) / "java"
    jar = folder / "jjava.jar"
    try:
        spec = json.loads((folder / "kernel.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if spec.get("argv") != JAVA_KERNEL_ARGV or not jar.is_file():
        return None
    target, stamp_file = folder / JAVA_ARCHIVE, folder / (JAVA_ARCHIVE + ".stamp")
    st = jar.stat()
    stamp = f"{_java_build()}\n{st.st_size} {st.st_mtime_ns}\n"
    with contextlib.suppress(OSError):
        if target.is_file() and stamp_file.read_text(encoding="utf-8") == stamp:
            return target
    with tempfile.TemporaryDirectory(prefix="clx-jjava-") as tmp:
        dump = Path(tmp) / JAVA_ARCHIVE
        if not _run_training_kernel(folder, dump, Path(tmp), timeout) or not dump.is_file():
            return None
        partial = folder / f".{JAVA_ARCHIVE}.{os.getpid()}.tmp"
        shutil.copyfile(dump, partial)
        partial.replace(target)
    stamp_file.write_text(stamp, encoding="utf-8")
    return target


def _run_training_kernel(folder: Path, dump: Path, tmp: Path, timeout: float) -> bool:
    """One jjava kernel with the kernelspec's options that writes its classes to ``dump``
    when it exits; True if it ran every training cell and shut down cleanly."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    argv = [a.replace("{resource_dir}", str(folder)) for a in JAVA_KERNEL_ARGV]
    argv = [
        f"-XX:ArchiveClassesAtExit={dump}" if a.startswith(_ARCHIVE_OPTION) else a for a in argv
    ]
    spec_dir = tmp / "kernels" / "jjava-training"
    spec_dir.mkdir(parents=True)
    spec = {"argv": argv, "display_name": "jjava training", "language": "java"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    manager = KernelManager(
        kernel_name="jjava-training",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp / "kernels")]),
        transport="tcp",
        ip="127.0.0.1",
        connection_file=str(tmp / "connection.json"),
    )
    try:
        manager.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, RuntimeError):
        return False
    client = manager.client()
    trained = False
    try:
        client.start_channels()
        client.wait_for_ready(timeout=timeout)
        for cell in _TRAINING_CELLS:
            client.execute_interactive(cell, timeout=timeout, output_hook=lambda _msg: None)
        trained = True
    except (RuntimeError, TimeoutError):
        return False
    finally:
        client.stop_channels()
        # A clean exit is when the JVM writes the archive; on any other way out
        # (a failed cell, Ctrl-C) the JVM is killed, never left behind.
        manager.shutdown_kernel(now=not trained)
    return True


def _java_build() -> str:
    """``java -version`` in full: the archive fits exactly one JVM build."""
    return _output(["java", "-version"], stderr=True)


@dataclass(frozen=True)
class InstalledKernel:
    """One kernelspec found on Jupyter's search path."""

    name: str
    display_name: str
    language: str
    version: str  # e.g. "ipykernel 7.4.0", "jjava 1.0a8", "deno 2.9.6"; "unknown" if not told
    resource_dir: str
    argv: tuple[str, ...]


def installed_kernels() -> list[InstalledKernel]:
    """Every installed kernelspec, sorted by name, with the version of what runs it."""
    from jupyter_client.kernelspec import KernelSpecManager

    found: list[InstalledKernel] = []
    for name, entry in sorted(KernelSpecManager().get_all_specs().items()):
        spec = entry.get("spec", {})
        argv = tuple(str(a) for a in spec.get("argv", ()))
        resource_dir = str(entry.get("resource_dir", ""))
        found.append(
            InstalledKernel(
                name=name,
                display_name=str(spec.get("display_name", name)),
                language=str(spec.get("language", "")),
                version=kernel_version(argv, Path(resource_dir)),
                resource_dir=resource_dir,
                argv=argv,
            )
        )
    return found


def kernel_version(argv: tuple[str, ...], resource_dir: Path) -> str:
    """What a kernel command is, with its version, as far as it can be told cheaply."""
    if any(part in ("ipykernel_launcher", "ipykernel") for part in argv[:4]):
        return f"ipykernel {_dist_version('ipykernel')}"
    if (resource_dir / "jjava.jar").is_file() or any(a.endswith("jjava.jar") for a in argv):
        return f"jjava {_dist_version('jjava')} on {java_version()}"
    if argv and Path(argv[0]).name == "deno":
        return " ".join(_first_line([argv[0], "--version"]).split()[:2]) or "deno unknown"
    return "unknown"


def java_version() -> str:
    """``java -version``'s first line, shortened (``openjdk 17.0.15``)."""
    line = _first_line(["java", "-version"], stderr=True)
    parts = line.replace('"', "").split()
    return " ".join(parts[:3:2]) if len(parts) >= 3 else (line or "java unknown")


def _dist_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _output(cmd: list[str], *, stderr: bool = False) -> str:
    """What ``cmd`` prints (on stderr if asked), stripped; "" if it cannot run."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return (r.stderr if stderr else r.stdout).strip()


def _first_line(cmd: list[str], *, stderr: bool = False) -> str:
    text = _output(cmd, stderr=stderr)
    return text.splitlines()[0] if text else ""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--install" in args:
        written = install_deno_kernelspec()
        print(f"deno kernelspec: {written}" if written else "deno kernelspec: no Deno binary")
        tuned = tune_java_kernelspec()
        print(f"java kernelspec: {tuned}" if tuned else "java kernelspec: no jjava kernel")
        archive = train_java_archive() if tuned else None
        print(f"java class-data archive: {archive}" if archive else "java archive: none")
    for k in installed_kernels():
        print(f"{k.name:<14} {k.version:<40} {k.resource_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
