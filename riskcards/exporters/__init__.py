"""Formats out: the whole knowledge base, or a query's cards, read through ``riskcards.query``.

One module per format in this package; each declares itself with ``@register`` (name, help text, what it
counts, the download it publishes). This registry is the only list of formats: ``riskcards export
--format`` offers its names, ``riskcards build`` writes its dumps and the site's downloads page lists them,
all through ``formats()`` and ``write_dumps()``. Adding a format is one new module here (tested by
tests/test_export_registry.py, which adds one and finds it in all three places).

A format renders either one text (``Rendered.text``) or a set of files (``Rendered.files``, relative
name -> text; ``riskcards export -o DIR`` writes them into a folder, and the download is one zip of them).
Exporter modules import their heavy dependencies inside ``render`` so that listing the formats stays cheap.

The shapes of the formats are documented in their modules (json: ``document``, jsonl: ``examples``, csv:
``cards_csv``, ...).
"""

from __future__ import annotations

import importlib
import io
import pkgutil
import sqlite3
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..paths import write_atomic, write_bytes_atomic


@dataclass(frozen=True)
class Rendered:
    """What a format produced: one text, or files by relative name; ``count`` records of ``unit``."""

    count: int
    text: str | None = None
    files: dict[str, str] | None = None


@dataclass(frozen=True)
class Exporter:
    """One export format, as every consumer of the registry sees it."""

    name: str  # the --format value
    help: str  # one line for `riskcards export --help`
    description: str  # the download's row on the downloads page
    unit: str  # what Rendered.count counts ("cards", "examples", ...)
    render: Callable[[sqlite3.Connection, list[str] | None, dict | None], Rendered]
    download: str | None = None  # file name of the dump / download (a .zip for multi-file formats); None: none
    order: int = 100  # position in listings (lower first)
    multi_file: bool = False  # renders Rendered.files, written into a folder
    publish: str | None = None  # a multi-file format's files are also published one by one under this folder
    requires: str | None = None  # a module the format renders with (an optional install); without it no dump

    def available(self) -> bool:
        """Whether the module the format needs is installed (``riskcards build`` skips its dump when not)."""
        if not self.requires:
            return True
        import importlib.util

        return importlib.util.find_spec(self.requires) is not None


_REGISTRY: dict[str, Exporter] = {}
_discovered = False


def register(
    name: str,
    *,
    help: str,  # noqa: A002 - the word the CLI uses
    description: str | None = None,
    unit: str = "cards",
    download: str | None = None,
    order: int = 100,
    multi_file: bool = False,
    publish: str | None = None,
    requires: str | None = None,
):
    """Decorator for a format's render function ``(conn, ids, query) -> Rendered``."""

    def deco(fn):
        if name in _REGISTRY and _REGISTRY[name].render is not fn:
            raise ValueError(f"export format '{name}' is registered twice")
        _REGISTRY[name] = Exporter(
            name, help, description or help, unit, fn, download, order, multi_file, publish, requires
        )
        return fn

    return deco


def unregister(name: str) -> None:
    """Remove a format (for tests that add one)."""
    _REGISTRY.pop(name, None)


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")


def rediscover() -> None:
    """Import the format modules again (after a module was added to the package path)."""
    global _discovered
    _discovered = False
    _discover()


def formats() -> list[Exporter]:
    """Every format, in listing order."""
    _discover()
    return sorted(_REGISTRY.values(), key=lambda e: (e.order, e.name))


def names() -> list[str]:
    return [e.name for e in formats()]


def get(name: str) -> Exporter:
    _discover()
    if name not in _REGISTRY:
        raise ValueError(f"unknown export format '{name}'; one of: {', '.join(names())}")
    return _REGISTRY[name]


def render_format(conn: sqlite3.Connection, fmt: str, ids=None, query: dict | None = None) -> Rendered:
    return get(fmt).render(conn, ids, query)


def render(conn: sqlite3.Connection, fmt: str, ids=None, query: dict | None = None) -> tuple[str, int]:
    """A single-file export as text, and how many records it holds."""
    r = render_format(conn, fmt, ids, query)
    if r.text is None:
        raise ValueError(f"export format '{fmt}' writes several files: give a folder with --out")
    return r.text, r.count


def zip_bytes(files: dict[str, str]) -> bytes:
    """The files as one zip, byte-identical for identical files (fixed timestamps, sorted names)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[name].encode("utf-8"))
    return buf.getvalue()


def export(
    conn: sqlite3.Connection, fmt: str, out: Path | str | None = None, ids=None, query: dict | None = None
) -> int:
    """Write the export to ``out`` atomically (temp file + rename), or to standard output; returns the record
    count. A multi-file format writes into the folder ``out`` (each file atomically), or a zip when ``out``
    ends in .zip."""
    r = render_format(conn, fmt, ids, query)
    if r.files is not None:
        if out is None:
            raise ValueError(f"export format '{fmt}' writes several files: give a folder (or a .zip) with --out")
        out = Path(out)
        if out.suffix == ".zip":
            write_bytes_atomic(out, zip_bytes(r.files))
        else:
            for name, text in r.files.items():
                write_atomic(out / name, text)
        return r.count
    if out is None:
        sys.stdout.write(r.text or "")
        return r.count
    write_atomic(Path(out), r.text or "")
    return r.count


def write_dumps(conn: sqlite3.Connection, folder: Path, *, newer_than: float | None = None) -> dict[str, Path]:
    """Write the download of every format that has one (and whose ``requires`` is installed) into ``folder``:
    {download name: path}.

    The one function that writes the dumps, for ``riskcards build`` and the site. With ``newer_than`` (a
    modification time, the database's), a dump already newer than that is kept as it is."""
    out: dict[str, Path] = {}
    for e in formats():
        if not e.download or not e.available():
            continue
        target = folder / e.download
        out[e.download] = target
        fresh = newer_than is not None and target.exists() and target.stat().st_mtime >= newer_than
        if fresh and (not e.publish or (folder / e.publish).is_dir()):
            continue
        r = e.render(conn, None, None)
        if r.files is not None:
            write_bytes_atomic(target, zip_bytes(r.files))
            if e.publish:
                _publish(folder / e.publish, r.files)
        else:
            write_atomic(target, r.text or "")
    return out


def _publish(folder: Path, files: dict[str, str]) -> None:
    """The files one by one in ``folder`` (what the site publishes), and nothing else there."""
    if folder.is_dir():
        for old in folder.iterdir():
            if old.is_file() and old.name not in files:
                old.unlink()
    for name, text in files.items():
        write_atomic(folder / name, text)


def published(folder: Path) -> dict[str, Path]:
    """{site path: file} of the files that formats publish one by one (``publish``), as ``write_dumps`` left
    them in ``folder``."""
    out: dict[str, Path] = {}
    for e in formats():
        if e.publish and (folder / e.publish).is_dir():
            for p in sorted((folder / e.publish).iterdir()):
                if p.is_file():
                    out[f"{e.publish}/{p.name}"] = p
    return out


def downloads() -> dict[str, str]:
    """{download name: what it is} for every format that publishes one."""
    return {e.download: e.description for e in formats() if e.download and e.available()}


# The documented shapes of the three original formats, kept importable from here.
from .cards_csv import CSV_COLUMNS  # noqa: E402
from .document import FORMAT_VERSION, json_document  # noqa: E402
from .examples import jsonl_records, messages  # noqa: E402

__all__ = [
    "CSV_COLUMNS",
    "FORMAT_VERSION",
    "Exporter",
    "Rendered",
    "downloads",
    "export",
    "formats",
    "get",
    "json_document",
    "jsonl_records",
    "messages",
    "names",
    "published",
    "register",
    "render",
    "write_dumps",
]
