"""Checking a draw.io file in Python before the browser sees it.

The draw.io page never reports bad input: text that is not XML, a root it does not
know, or a file without pages make it wait forever for a ``LoadingComplete`` marker
that never comes. Everything we can know from the file itself is therefore checked
here, quickly and with a line and column, and only sound files reach the page.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from dataclasses import dataclass
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from clx.diagrams.rendered import content_error


@dataclass(frozen=True)
class DrawioFile:
    pages: int
    first_page_name: str
    math: bool  # page 1 asks for MathJax (math="1")
    compressed: bool  # page 1 is stored deflated and base64-encoded


def check_drawio(xml_text: str) -> DrawioFile:
    """Describe page 1 of a draw.io file, or raise ContentError saying what is wrong."""
    root = _parse(xml_text, what="not well-formed XML")
    if root.tag == "mxGraphModel":
        return DrawioFile(pages=1, first_page_name="", math=_math(root), compressed=False)
    if root.tag != "mxfile":
        raise content_error(
            f"not a draw.io file: the root element is <{root.tag}>, expected <mxfile>"
        )
    diagrams = root.findall("diagram")
    if not diagrams:
        raise content_error("the draw.io file has no pages (<mxfile> without <diagram>)")
    page = diagrams[0]
    name = page.get("name", "")
    model = page.find("mxGraphModel")
    if model is not None:
        return DrawioFile(len(diagrams), name, _math(model), compressed=False)
    text = (page.text or "").strip()
    if not text:
        raise content_error(f"page 1 ({name!r}) of the draw.io file is empty")
    inflated = _inflate(text, name)
    # Lines of the inflated text are not lines of the file: report them in the message only.
    model = _parse(inflated, what=f"page 1 ({name!r}) holds malformed XML", file_lines=False)
    if model.tag != "mxGraphModel":
        raise content_error(f"page 1 ({name!r}) does not hold an <mxGraphModel>")
    return DrawioFile(len(diagrams), name, _math(model), compressed=True)


def _parse(text: str, *, what: str, file_lines: bool = True) -> Element:
    try:
        return fromstring(text)
    except ParseError as e:
        line, column = e.position
        # expat counts columns from 0; editors count from 1.
        raise content_error(
            f"{what} (line {line}, column {column + 1})",
            line=line if file_lines else None,
            detail=str(e),
        ) from None
    except DefusedXmlException as e:
        raise content_error(f"{what}: {type(e).__name__} ({e})") from None


def _inflate(text: str, page_name: str) -> str:
    """draw.io's compressed page: URI-encode, raw deflate, base64."""
    try:
        raw = base64.b64decode(text, validate=False)
        return unquote(zlib.decompress(raw, -15).decode("utf-8"))
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError) as e:
        raise content_error(
            f"page 1 ({page_name!r}) of the draw.io file cannot be decompressed: {e}"
        ) from None


def _math(model: Element) -> bool:
    return model.get("math") == "1"
