"""Small real diagrams for the diagram tests and the benchmark."""

from __future__ import annotations

import base64
import io
import urllib.parse
import zlib

from PIL import Image

RED = (255, 0, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)

PUML_CLASS = """@startuml
skinparam backgroundColor #FFFFFF
class Äpfel #FF0000 {
  +name: str
}
class Birne
Äpfel --> Birne : hat
@enduml
"""

# Line 5 is the one PlantUML rejects; the comment lines before @startuml must count.
PUML_BROKEN = """' a comment before the diagram

@startuml
Alice -> Bob: hello
this line is not PlantUML
@enduml
"""
PUML_BROKEN_LINE = 5


def box_model(fill: str, label: str = "Hällo", *, x: int = 40, y: int = 40, math: bool = False):
    """One mxGraphModel with a single filled 120×60 box."""
    return (
        f'<mxGraphModel math="{1 if math else 0}"><root><mxCell id="0"/>'
        '<mxCell id="1" parent="0"/>'
        f'<mxCell id="2" value="{label}" style="rounded=0;whiteSpace=wrap;html=1;'
        f'fillColor={fill};strokeColor=#000000;" vertex="1" parent="1">'
        f'<mxGeometry x="{x}" y="{y}" width="120" height="60" as="geometry"/></mxCell>'
        "</root></mxGraphModel>"
    )


def compress(model: str) -> str:
    """draw.io's page compression: URI-encode, raw deflate, base64."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflate.compress(urllib.parse.quote(model, safe="~()*!.'").encode()) + deflate.flush()
    return base64.b64encode(raw).decode()


def drawio_file(*models: str, compressed: bool = False) -> str:
    pages = "".join(
        f'<diagram id="p{i}" name="Seite {i + 1}">{compress(m) if compressed else m}</diagram>'
        for i, m in enumerate(models)
    )
    return f'<mxfile host="clx-tests">{pages}</mxfile>\n'


def image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def ink_box(im: Image.Image, background=WHITE) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) margins of everything that is not background."""
    w, h = im.size
    px = im.load()
    cols = [x for x in range(w) if any(px[x, y] != background for y in range(h))]
    rows = [y for y in range(h) if any(px[x, y] != background for x in range(w))]
    return cols[0], rows[0], w - 1 - cols[-1], h - 1 - rows[-1]


def count(im: Image.Image, colour: tuple[int, int, int]) -> int:
    return sum(1 for p in im.get_flattened_data() if p == colour)
