"""Java (jjava) and TypeScript (Deno) decks on their real kernels, installed by set-up."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from clx.course.variants import variants_for
from clx.notebooks import KernelFailed, NotebookSource, render_language
from clx.notebooks.kernels import KernelPool
from clx.notebooks.kernelspecs import installed_kernels

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-course"
LANGS = DEMO / "slides" / "module_300_other_languages"
JAVA_DECK = LANGS / "topic_100_java_records" / "slides_records.java"
TS_DECK = LANGS / "topic_200_typescript_types" / "slides_types.ts"


def render(executor, settings, path: Path, prog_lang: str):
    src = NotebookSource(
        path=path.relative_to(DEMO).as_posix(), text=path.read_text("utf-8"), prog_lang=prog_lang
    )
    result = render_language(src, "en", variants_for("en"), "01 Deck", settings, executor)
    assert [p for p in result.problems if p.is_error] == [], result.problems
    return result, {v.label: b.decode("utf-8") for v, b in result.outputs.items()}


def outputs_of(html: str) -> str:
    """The text of the output areas only (not the code), tags removed."""
    areas = re.findall(r'<div class="output_area">(.*?)</div>\s*</div>', html, re.S)
    return "\n".join(re.sub(r"<[^>]+>", "", a) for a in areas)


def test_set_up_installed_the_three_kernels_with_versions() -> None:
    kernels = {k.name: k for k in installed_kernels()}
    assert {"python3", "java", "deno"} <= set(kernels)
    assert re.fullmatch(r"ipykernel \d+\.\d+\.\d+", kernels["python3"].version)
    assert re.fullmatch(r"jjava \S+ on openjdk \d+[.\d]*", kernels["java"].version)
    assert re.fullmatch(r"deno \d+\.\d+\.\d+", kernels["deno"].version)
    # set-up starts jjava's kernel JVM directly (no launcher JVM), with quick-start options
    assert "-XX:TieredStopAtLevel=1" in kernels["java"].argv
    assert not any(a.endswith("jjava-launcher.jar") for a in kernels["java"].argv)
    # kernelspecs live in the venv's own Jupyter folder, never the user's home
    for name in ("java", "deno"):
        assert Path(kernels[name].resource_dir).is_relative_to(sys.prefix), kernels[name]


def test_java_deck_executes_records_interfaces_and_a_compile_error(executor, settings) -> None:
    result, out = render(executor, settings, JAVA_DECK, "java")
    assert result.executions == 1  # completed and speaker from one execution
    for label in ("en/completed/html", "en/speaker/html"):
        shown = outputs_of(out[label])
        assert "clx-java-point 3,4" in shown  # System.out
        assert "Point[x=1, y=2]" in shown  # the value of an expression
        assert "clx-java-area 36.0" in shown  # a sealed interface and its records
        assert "clx-java-circle 3.14" in shown
        assert "p.x = 5;" in shown  # the rejected snippet, in a raises-exception cell
    assert outputs_of(out["en/code-along/html"]).strip() == ""
    assert "clx-java-point 3,4" not in out["en/completed/notebook"]  # never executed


def test_typescript_deck_shows_coloured_values_as_text(executor, settings) -> None:
    result, out = render(executor, settings, TS_DECK, "typescript")
    assert result.executions == 1
    for label in ("en/completed/html", "en/speaker/html"):
        html = out[label]
        shown = outputs_of(html)
        assert "clx-ts-point 3,4" in shown and "clx-ts-ages ada+grace" in shown
        assert "TypeError: Cannot read properties of undefined" in shown
        # Deno colours its values: they become coloured spans, not escape codes
        assert '<span class="ansi-yellow-fg">42</span>' in html
        assert "\x1b" not in html and "[33m" not in html
    assert outputs_of(out["en/code-along/html"]).strip() == ""


def test_each_kernel_gets_the_transport_it_can_parse(tmp_path) -> None:
    with KernelPool(root=tmp_path / "k", spares=0) as pool:
        for name, transport in (("python3", "ipc"), ("deno", "tcp")):
            kernel = pool.take(name)
            try:
                kernel.wait_ready(60)
                info = json.loads((kernel.folder / "connection.json").read_text())
                assert info["transport"] == transport, (name, info)
                if transport == "tcp":
                    assert info["ip"] == "127.0.0.1"
            finally:
                pool.discard(kernel)


BROKEN = "import sys; sys.stderr.write('clx-boot: cannot parse the address\\n'); sys.exit(3)"


def test_a_kernel_that_dies_while_starting_says_why(tmp_path, monkeypatch) -> None:
    spec = tmp_path / "jupyter" / "kernels" / "clx-says-why"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-c", BROKEN, "{connection_file}"],
                "display_name": "broken",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    from nbformat.v4 import new_code_cell, new_notebook

    from clx.notebooks import Executor

    with Executor(root=tmp_path / "k", spares=0) as ex, pytest.raises(KernelFailed) as failed:
        ex.execute(
            new_notebook(cells=[new_code_cell("1")]),
            kernel_name="clx-says-why",
            files={},
            retries=0,
        )
    assert "did not start" in failed.value.message
    assert "clx-boot: cannot parse the address" in failed.value.detail


def test_deno_results_published_after_idle_are_kept_in_every_cell(executor) -> None:
    # Deno publishes a cell's result a fraction of a millisecond after its idle status
    # now and then (a few cells in a hundred here): a straggler of any cell, the last
    # one included, must still land in its own cell, in every execution. (Without the
    # barrier after the last cell, two of three runs of this test failed.)
    from nbformat.v4 import new_code_cell, new_notebook

    from clx.course.languages import LANGUAGES

    grace = LANGUAGES["typescript"].output_grace
    cells = [new_code_cell(f'console.log("line {i}"); {i} * 7') for i in range(12)]
    cells.append(new_code_cell("  \n"))  # nbclient skips it: the barrier must not wait for it
    nb = new_notebook(
        cells=cells, metadata={"kernelspec": {"name": "deno", "display_name": "Deno"}}
    )
    for _ in range(12):
        done = executor.execute(nb, kernel_name="deno", files={}, output_grace=grace)
        for i, cell in enumerate(done.cells[:-1]):
            kinds = sorted(o["output_type"] for o in cell.outputs)
            assert kinds == ["execute_result", "stream"], (i, cell.outputs)
            assert cell.outputs[0]["text"] == f"line {i}\n"


def test_java_kernels_map_the_class_data_archive_that_set_up_trained(tmp_path) -> None:
    from clx.notebooks.kernelspecs import JAVA_ARCHIVE

    folder = Path({k.name: k for k in installed_kernels()}["java"].resource_dir)
    archive = folder / JAVA_ARCHIVE
    assert archive.is_file() and (folder / f"{JAVA_ARCHIVE}.stamp").is_file()
    with KernelPool(root=tmp_path / "k", spares=0) as pool:
        kernel = pool.take("java")
        try:
            kernel.wait_ready(60)
            assert str(archive) in Path(f"/proc/{kernel.pid}/maps").read_text()
        finally:
            pool.discard(kernel)


def test_a_java_archive_that_does_not_fit_is_ignored(tmp_path, monkeypatch) -> None:
    # e.g. after a JDK upgrade, until the next `clx setup` trains a new one
    from nbformat.v4 import new_code_cell, new_notebook

    from clx.notebooks import Executor
    from clx.notebooks.kernelspecs import JAVA_ARCHIVE

    installed = Path({k.name: k for k in installed_kernels()}["java"].resource_dir)
    folder = tmp_path / "jupyter" / "kernels" / "java"
    folder.mkdir(parents=True)
    for name in ("kernel.json", "jjava.jar"):
        (folder / name).symlink_to(installed / name)
    (folder / JAVA_ARCHIVE).write_bytes(b"not a class-data archive")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = new_notebook(cells=[new_code_cell("6 * 7")])
    with Executor(root=tmp_path / "k", spares=0) as ex:
        done = ex.execute(nb, kernel_name="java", files={}, retries=0)
    assert done.cells[0].outputs[0]["data"]["text/plain"] == "42"
