"""Reading record files: bytes -> text -> plain data, with located problems and no tracebacks.

Loading policy (the same for ``validate``, the index and the pre-commit hook):

* YAML 1.2 core schema, through the Rust parser ``yaml_rs``: ``yes``/``no``/``on``/``off`` stay strings,
  only ``true``/``false`` are booleans, and timestamps stay strings (``parse_datetime=False``), so a date
  is the text ``2024-05-01`` for us exactly as for check-jsonschema or any JSON Schema validator.
* Duplicate keys are errors. Aliases are limited (a "billion laughs" file is an error, not a hang).
  Tags beyond the core schema are errors: loading is safe, nothing is ever constructed from a tag.
* Files are UTF-8 (a BOM is accepted), at most ``MAX_BYTES``, one document with a mapping at the top.

Parsing is fast and gives no positions. Positions are found only for files that have a problem, by
composing the same text with PyYAML's node tree (``riskcards.locate``).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml_rs

from .paths import find_root  # noqa: F401 - re-exported: riskcards.load.find_root
from .problems import Problem

MAX_BYTES = 1_000_000
_ALIAS_LIMITS = yaml_rs.AliasLimits(max_total_replayed_events=100_000, max_replay_stack_depth=32)
_POS_RE = re.compile(r"line (\d+),? column (\d+)")

# Record kinds by folder, relative to the knowledge-base root.
KIND_DIRS: dict[str, str] = {
    "cards": "card",
    "taxonomies": "taxonomy",
    "taxonomies/crosswalks": "crosswalk",
    "scenarios": "scenario",
    "models": "model",
    "vocab": "harm-types",
    "incidents": "incident",
}


@dataclass
class Loaded:
    """One record file as read: its kind, text, and its data as compact JSON (None when unreadable).

    The JSON form is what the record models validate (``model_validate_json``, parsed in Rust), and what
    worker processes send back cheaply. ``data`` decodes it into plain Python values on demand.
    """

    path: Path
    shown: str
    kind: str | None
    text: str | None = None
    payload: bytes | None = None
    digest: str | None = None
    """sha1 of ``payload``: changes exactly when the data does (not with comments or layout)."""
    problems: list[Problem] = field(default_factory=list)
    _data: Any = field(default=None, repr=False)

    @property
    def data(self) -> Any:
        if self._data is None and self.payload is not None:
            self._data = orjson.loads(self.payload)
        return self._data

    def problem(self, line: int, col: int, message: str, check: str) -> None:
        self.problems.append(Problem(self.shown, line, col, message, check))


def kind_of(path: Path, root: Path) -> str | None:
    """The record kind of a file by its folder, or None when it lies outside the known folders."""
    try:
        rel = path.resolve().parent.relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = path.parent.as_posix()
    if rel in KIND_DIRS:
        return KIND_DIRS[rel]
    # Files outside the root (e.g. a single card passed on the command line) are judged by their folder name.
    for suffix, kind in sorted(KIND_DIRS.items(), key=lambda kv: -len(kv[0])):
        if rel.endswith("/" + suffix) or rel == suffix:
            return kind
    return None


def discover(root: Path) -> list[tuple[Path, str, str]]:
    """Every record file of the knowledge base as (path, shown path, kind), in a stable order."""
    out: list[tuple[Path, str, str]] = []
    for sub, kind in KIND_DIRS.items():
        folder = root / sub
        if folder.is_dir():
            names = sorted(e.name for e in os.scandir(folder) if e.name.endswith((".yaml", ".yml")))
            out.extend((folder / name, f"{sub}/{name}", kind) for name in names)
    return out


def read_text(path: Path, shown: str) -> tuple[str | None, list[Problem]]:
    """The file's text, or a located problem: missing, a directory, a broken link, too large, not UTF-8."""
    if path.is_symlink() and not path.exists():
        return None, [
            Problem(
                shown,
                1,
                1,
                f"broken symbolic link (points to {os.readlink(path)!s}); remove it or point it at a record file",
                "file",
            )
        ]
    if path.is_dir():
        return None, [Problem(shown, 1, 1, "is a directory, not a record file; records are single .yaml files", "file")]
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [
                Problem(
                    shown,
                    1,
                    1,
                    f"file is {size / 1e6:.1f} MB; a record may be at most {MAX_BYTES / 1e6:.0f} MB, so split it or trim it",
                    "file",
                )
            ]
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [Problem(shown, 1, 1, "no such file", "file")]
    except OSError as exc:
        return None, [Problem(shown, 1, 1, f"cannot read the file: {exc.strerror}", "file")]
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            Problem(shown, line, col, f"byte 0x{raw[exc.start]:02x} is not UTF-8; save the file as UTF-8", "encoding")
        ]
    if "\x00" in text:
        off = text.index("\x00")
        line = text.count("\n", 0, off) + 1
        return None, [
            Problem(
                shown,
                line,
                off - (text.rfind("\n", 0, off) + 1) + 1,
                "NUL character in the file; records are text",
                "encoding",
            )
        ]
    return text, []


def parse_yaml(text: str) -> Any:
    """Parse YAML text with the project's loading policy. Raises yaml_rs.YAMLDecodeError."""
    return yaml_rs.loads(text, parse_datetime=False, alias_limits=_ALIAS_LIMITS)


def yaml_error(exc: Exception, text: str) -> tuple[int, int, str]:
    """Line, column and an actionable message for a YAML parse error."""
    msg = str(exc)
    m = _POS_RE.search(msg)
    detail = msg.strip().splitlines()[-1] if msg.strip() else "invalid YAML"
    if m:
        line, col = int(m.group(1)), int(m.group(2))
    else:
        line, col = _locate_by_pyyaml(text)
    if "duplicate mapping key" in msg:
        from .locate import find_duplicate_key

        where = find_duplicate_key(text)
        if where:
            line, col, key = where
            return line, col, f"duplicate key {key!r}: a key may appear once per mapping; merge the two entries"
        return line, col, f"{detail}; a key may appear once per mapping"
    if "alias" in msg and "limit" in msg:
        return line, col, "too many alias expansions (an alias bomb?); write the values out instead of using anchors"
    if "Invalid tag" in msg or "tag" in detail.lower():
        return line, col, f"{detail}: YAML tags are not allowed in records; write a plain value"
    if "mapping values are not allowed" in detail:
        return (
            line,
            col,
            "': ' inside an unquoted value starts a mapping; put the whole value in quotes (e.g. \"[redacted: detail]\") or use a block scalar '|'",
        )
    if "found character that cannot start any token" in detail or "tab" in detail.lower():
        return line, col, f"{detail}; indent with spaces, and quote values that start with '@', '`' or '%'"
    return line, col, f"invalid YAML: {detail}"


def _locate_by_pyyaml(text: str) -> tuple[int, int]:
    import yaml

    try:
        for _ in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            pass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            return mark.line + 1, mark.column + 1
    return 1, 1


def load_file(path: Path, root: Path, shown: str | None = None, kind: str | None = None) -> Loaded:
    """Read and parse one record file. Never raises on bad input; problems are collected on the result."""
    from .problems import display_path

    shown = shown or display_path(path, root)
    rec = Loaded(path=path, shown=shown, kind=kind or kind_of(path, root))
    text, problems = read_text(path, shown)
    rec.problems.extend(problems)
    if text is None:
        return rec
    rec.text = text
    try:
        data = parse_yaml(text)
    except yaml_rs.YAMLDecodeError as exc:
        line, col, msg = yaml_error(exc, text)
        rec.problem(line, col, msg, "yaml-syntax")
        return rec
    except (RecursionError, ValueError, OverflowError) as exc:
        rec.problem(1, 1, f"cannot read this YAML: {exc}", "yaml-syntax")
        return rec
    if data is None:
        rec.problem(1, 1, "file is empty; a record is a YAML mapping of fields (start from `riskcards new`)", "empty")
        return rec
    if "!" in text and _TAG_HINT_RE.search(text):
        tag = _find_tag(text)
        if tag:
            line, col, name = tag
            rec.problem(
                line,
                col,
                f"YAML tag '{name}' is not allowed in records; write a plain value (quote it if it starts with '!')",
                "yaml-syntax",
            )
            return rec
    if isinstance(data, list) and _is_multi_document(text):
        rec.problem(1, 1, "file holds several YAML documents ('---'); a record file holds exactly one", "structure")
        return rec
    if not isinstance(data, dict):
        got = {list: "a list", str: "a single string", int: "a number", float: "a number", bool: "a boolean"}.get(
            type(data), type(data).__name__
        )
        rec.problem(
            1,
            1,
            f"the file holds {got}; a record is a mapping of fields such as 'id: ...' at the top level",
            "structure",
        )
        return rec
    try:
        rec.payload = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, ValueError) as exc:  # a value JSON cannot hold; the policy above should prevent it
        rec.problem(1, 1, f"a value cannot be represented as JSON: {exc}", "structure")
        return rec
    rec.digest = hashlib.sha1(rec.payload).hexdigest()  # here, in the worker processes when there are any
    rec._data = data
    return rec


PARALLEL_MIN_FILES = 2000
"""Below this many files, parsing in one process is faster than starting workers."""


def load_many(items: list[tuple[Path, str, str | None]], root: Path) -> Iterator[Loaded]:
    """Load many files, yielding them in input order. Large knowledge bases are read and parsed by worker
    processes (parsing is most of validation time) while the caller validates what has arrived; small
    ones are loaded in this process. The result is the same either way, except that clean files come
    back without their text (``Loaded.text`` is None; read it again to locate a problem found later)."""
    workers = min(os.cpu_count() or 1, 4)
    if len(items) < PARALLEL_MIN_FILES or workers < 2:
        for path, shown, kind in items:
            yield load_file(path, root, shown, kind)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(200, len(items) // (workers * 4))
    chunks = [(items[i : i + size], root) for i in range(0, len(items), size)]
    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # platforms without fork
        ctx = None
    if ctx is None:
        for path, shown, kind in items:
            yield load_file(path, root, shown, kind)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        for part in pool.map(_load_chunk, chunks):
            yield from part


def _load_chunk(args: tuple[list[tuple[Path, str, str | None]], Path]) -> list[Loaded]:
    items, root = args
    out = []
    for path, shown, kind in items:
        rec = load_file(path, root, shown, kind)
        rec._data = None  # the JSON payload travels; the decoded form is rebuilt on demand
        if not rec.problems:
            rec.text = None  # not worth sending back; re-read on demand
        out.append(rec)
    return out


_TAG_HINT_RE = re.compile(r"(?:^|[\s\[{,])!", re.MULTILINE)
_CORE_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")}


def _find_tag(text: str) -> tuple[int, int, str] | None:
    """The first explicit tag outside YAML's core schema (e.g. '!!python/object'), with its position."""
    import yaml

    try:
        for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            tag = getattr(event, "tag", None)
            if tag and tag != "!" and tag not in _CORE_TAGS:
                return event.start_mark.line + 1, event.start_mark.column + 1, tag.replace("tag:yaml.org,2002:", "!!")
    except yaml.YAMLError:
        return None
    return None


def _is_multi_document(text: str) -> bool:
    import yaml

    try:
        return sum(1 for _ in yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))) > 1
    except yaml.YAMLError:
        return False
