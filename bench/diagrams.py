"""Warm seconds per diagram for PlantUML and draw.io (target: ≤ 0.15 s each).

Renders 20 generated PlantUML class diagrams and 20 generated draw.io diagrams, first
straight through the renderers (PNG and SVG), then as queued jobs through a
``WorkerPool`` with one real worker process per kind (PNG). "Warm" excludes the tool
start: the renderer has rendered one diagram, the worker reported ready, before the
clock starts. Last line: ``name=value`` pairs.
"""

from __future__ import annotations

import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from clx.diagrams.drawio import DrawioRenderer  # noqa: E402
from clx.diagrams.payload import DiagramJobPayload  # noqa: E402
from clx.diagrams.plantuml import PlantUmlRenderer  # noqa: E402
from clx.queue import JobState, NewJob, SqliteQueue, WorkerState  # noqa: E402
from clx.store import BlobStore  # noqa: E402
from clx.workers.pool import WorkerPool  # noqa: E402

N = 20


def plantuml_source(i: int) -> str:
    """A typical class diagram: 5 classes/interfaces, a note, 4 relations."""
    return f"""@startuml
interface Speicher{i} {{
  +lesen(schlüssel: str): bytes
}}
abstract class Basis{i}
class Datei{i} {{
  -pfad: Path
  +lesen(schlüssel: str): bytes
}}
class Cache{i}
class Bericht{i} {{
  +zeilen: int = {i}
}}
Speicher{i} <|.. Datei{i}
Basis{i} <|-- Datei{i}
Cache{i} o-- Speicher{i} : füllt
Bericht{i} ..> Cache{i} : liest
note right of Cache{i} : Größe {i * 10} MB
@enduml
"""


def drawio_source(i: int) -> str:
    """A typical slide diagram: 4 shapes, HTML/plain labels, umlauts, labelled + dashed edges."""
    cells = [
        ("a", f"&lt;b&gt;Übersicht {i}&lt;/b&gt;", "rounded=1;whiteSpace=wrap;html=1;", 40, 40),
        ("b", f"Prüfung {i}", "shape=ellipse;whiteSpace=wrap;", 260, 40),
        (
            "c",
            "&lt;i&gt;Größe&lt;/i&gt;",
            "rhombus;whiteSpace=wrap;html=1;fillColor=#dae8fc;",
            40,
            180,
        ),
        ("d", f"Ergebnis {i * 7}", "rounded=0;whiteSpace=wrap;html=1;fillColor=#f8cecc;", 260, 180),
    ]
    xml = ['<mxfile host="clx-bench"><diagram id="d" name="Seite 1"><mxGraphModel><root>']
    xml.append('<mxCell id="0"/><mxCell id="1" parent="0"/>')
    for cid, label, style, x, y in cells:
        xml.append(
            f'<mxCell id="{cid}" value="{label}" style="{style}" vertex="1" parent="1">'
            f'<mxGeometry x="{x}" y="{y}" width="140" height="70" as="geometry"/></mxCell>'
        )
    xml.append(
        '<mxCell id="e1" value="prüft" style="endArrow=classic;html=1;" edge="1" parent="1" '
        'source="a" target="b"><mxGeometry relative="1" as="geometry"/></mxCell>'
        '<mxCell id="e2" style="endArrow=open;dashed=1;" edge="1" parent="1" '
        'source="c" target="d"><mxGeometry relative="1" as="geometry"/></mxCell>'
    )
    xml.append("</root></mxGraphModel></diagram></mxfile>\n")
    return "".join(xml)


def time_renders(render, sources: list[str], fmt: str) -> list[float]:
    times = []
    for src in sources:
        t0 = time.perf_counter()
        render(src, fmt)
        times.append(time.perf_counter() - t0)
    return times


def bench_renderers() -> dict[str, float]:
    figures: dict[str, float] = {}
    pu = [plantuml_source(i) for i in range(N)]
    dio = [drawio_source(i) for i in range(N)]
    for name, renderer, sources in (
        ("plantuml", PlantUmlRenderer(), pu),
        ("drawio", DrawioRenderer(), dio),
    ):
        t0 = time.perf_counter()
        renderer.start()
        try:
            renderer.render(sources[0], "png")  # first render pays JVM start / first paint
            figures[f"{name}_start_s"] = time.perf_counter() - t0
            renderer.render(sources[0], "svg")
            for fmt in ("png", "svg"):
                times = time_renders(renderer.render, sources, fmt)
                key = f"{name}_warm_s" if fmt == "png" else f"{name}_svg_warm_s"
                figures[key] = sum(times) / len(times)
                figures[key.replace("warm", "median")] = statistics.median(times)
        finally:
            renderer.stop()
    return figures


def bench_worker(kind: str, sources: list[str], tmp: Path) -> dict[str, float]:
    """N PNG jobs through a WorkerPool of one ready worker; seconds per diagram, queue included."""
    state = tmp / f"{kind}-state"
    state.mkdir()
    queue = SqliteQueue(state / "clx.db")
    session = queue.open_session()
    blobs = BlobStore(state / "blobs")
    t_start = time.perf_counter()
    with WorkerPool(state / "clx.db", session, {kind: 1}) as pool:
        records = pool.wait_ready(timeout=120)
        if not records or any(r.state is not WorkerState.READY for r in records):
            raise SystemExit(f"the {kind} worker did not become ready: {records}")
        ready_s = time.perf_counter() - t_start
        jobs = []
        for i, src in enumerate(sources):
            digest = blobs.put(src.encode("utf-8"))
            out = str(tmp / "out" / kind / f"d{i}.png")
            payload = DiagramJobPayload(f"bench/{kind}/d{i}", digest, {"png": out})
            jobs.append(NewJob(kind, payload.to_dict(), f"{kind}-{digest}", outputs=[out]))
        t0 = time.perf_counter()
        queue.enqueue_many(session, jobs)
        # Poll gently: a status query plus a pool check every 5 ms took a core's worth of
        # time from the worker on 2 cores and added about 45 ms to every diagram.
        next_check = 0.0
        while True:
            counts = queue.counts(session).get(kind, {})
            if sum(counts.get(s, 0) for s in (JobState.SUCCEEDED, JobState.FAILED)) >= len(jobs):
                break
            if time.perf_counter() >= next_check:
                pool.check()
                next_check = time.perf_counter() + 0.5
            time.sleep(0.02)
        per_diagram = (time.perf_counter() - t0) / len(jobs)
    queue.close_session(session)
    queue.close()
    if counts.get(JobState.FAILED, 0):
        raise SystemExit(f"{counts[JobState.FAILED]} {kind} jobs failed")
    missing = [j.outputs[0] for j in jobs if not Path(j.outputs[0]).is_file()]
    if missing:
        raise SystemExit(f"{kind} worker did not write {missing[:3]}")
    return {f"worker_{kind}_ready_s": ready_s, f"worker_{kind}_warm_s": per_diagram}


def main() -> None:
    figures = bench_renderers()
    with tempfile.TemporaryDirectory() as tmp:
        figures |= bench_worker("plantuml", [plantuml_source(i) for i in range(N)], Path(tmp))
        figures |= bench_worker("drawio", [drawio_source(i) for i in range(N)], Path(tmp))
    for key in sorted(figures):
        print(f"{key:28s} {figures[key]:.3f}")
    order = ["plantuml_warm_s", "drawio_warm_s", "worker_plantuml_warm_s", "worker_drawio_warm_s"]
    rest = [k for k in sorted(figures) if k not in order]
    print(" ".join(f"{k}={figures[k]:.3f}" for k in order + rest))


if __name__ == "__main__":
    main()
