"""Reading a notebook source as text, with a clear problem when that is not possible.

A source that cannot be read, is binary or is not UTF-8 must not reach a worker: it
would come back as garbage outputs or as an error full of raw bytes. The planner asks
here once per notebook and reports the one problem found, naming the path and, for a
decoding error, the byte, its line and the encoding the file most likely has.
"""

from __future__ import annotations

from pathlib import Path

from clx.problems import Problem

# Magic numbers of the binary files most likely to end up with a notebook name.
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x1f\x8b": "a gzip archive",
    b"\x7fELF": "an executable",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def read_error(e: OSError) -> str:
    return f"cannot read: {e.strerror or e}"


def read_notebook(path: Path, rel: str) -> tuple[str | None, Problem | None]:
    """The text of a notebook source, or None and the problem that explains why not."""
    try:
        data = path.read_bytes()
    except OSError as e:
        return None, Problem(read_error(e), file=rel)
    return decode_notebook(data, rel)


def decode_notebook(data: bytes, rel: str) -> tuple[str | None, Problem | None]:
    if data.startswith(_UTF16_BOMS):
        return None, Problem(
            "not UTF-8: the file is UTF-16 (it starts with a UTF-16 byte order mark); "
            "re-save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)",
            file=rel,
        )
    what = next((name for magic, name in _MAGIC.items() if data.startswith(magic)), None)
    if what is not None or b"\x00" in data:
        return None, Problem(
            f"a binary file with a notebook name ({what or 'it contains NUL bytes'}); "
            "not built: rename it, or move it out of the topic",
            file=rel,
        )
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return None, _decode_problem(data, e, rel)


def _decode_problem(data: bytes, e: UnicodeDecodeError, rel: str) -> Problem:
    line = data.count(b"\n", 0, e.start) + 1
    column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
    try:
        data.decode("cp1252")
        guess = "cp1252"
        looks = "Windows-1252 (cp1252) or Latin-1"
    except UnicodeDecodeError:
        guess = "latin-1"
        looks = "Latin-1 (ISO-8859-1) or another 8-bit encoding"
    return Problem(
        f"not UTF-8: byte 0x{data[e.start]:02x} at line {line}, column {column} cannot be "
        f"decoded; the file looks like {looks}: re-save it as UTF-8 "
        f"(e.g. iconv -f {guess} -t UTF-8)",
        file=rel,
        line=line,
    )
