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
import stat
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
    """Every record file of the knowledge base as (path, shown path, kind), in a stable order. A symbolic
    link that leads out of the knowledge base is not a record (see ``strays``)."""
    out: list[tuple[Path, str, str]] = []
    for sub, kind in KIND_DIRS.items():
        folder = root / sub
        if folder.is_dir():
            names = sorted(e.name for e in os.scandir(folder) if e.name.endswith(RECORD_SUFFIXES))
            out.extend((folder / name, f"{sub}/{name}", kind) for name in names if not _leaves(folder / name, root))
    return out


RECORD_SUFFIXES = (".yaml", ".yml")
_HIDDEN_OK = {".gitkeep", ".gitignore", ".DS_Store"}


def strays(root: Path) -> list[Problem]:
    """Files that look like records but that no check would see, each reported where it is: in a record
    folder, anything that is not a ``.yaml`` record (``x.YAML``, ``x``, a sub-folder's files); at the top
    level, a folder of YAML files that is not a record folder; anywhere, a link that leaves the knowledge base."""
    out: list[Problem] = []
    folders = set(KIND_DIRS)
    for sub in KIND_DIRS:
        folder = root / sub
        if not folder.is_dir():
            continue
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            shown = f"{sub}/{entry.name}"
            path = folder / entry.name
            if entry.name.endswith(RECORD_SUFFIXES):
                if _leaves(path, root):
                    out.append(
                        Problem(
                            shown,
                            1,
                            1,
                            "a symbolic link that leads out of the knowledge base; records are files inside it",
                            "file",
                        )
                    )
                continue
            if entry.name in _HIDDEN_OK or (
                entry.name.startswith(".") and not entry.name.lower().endswith(RECORD_SUFFIXES)
            ):
                continue
            if entry.is_dir(follow_symlinks=False):
                if f"{sub}/{entry.name}" in folders:  # taxonomies/crosswalks
                    continue
                found = sorted(p for p in path.rglob("*") if p.suffix.lower() in RECORD_SUFFIXES)[:20]
                for p in found:
                    rel = f"{sub}/{p.relative_to(folder).as_posix()}"
                    out.append(
                        Problem(
                            rel,
                            1,
                            1,
                            f"in a sub-folder of {sub}/, where no check sees it; records are files directly in {sub}/",
                            "file",
                        )
                    )
                continue
            stem = entry.name.rsplit(".", 1)[0] if "." in entry.name else entry.name
            out.append(
                Problem(
                    shown,
                    1,
                    1,
                    f"not a record file, so no check sees it; records are named "
                    f"<id>.yaml (rename it to '{stem}.yaml', or move it out of {sub}/)",
                    "file",
                )
            )
    try:
        top = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return out
    for entry in top:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False) or entry.name in folders:
            continue
        try:
            yamls = sorted(e.name for e in os.scandir(entry.path) if e.name.lower().endswith(RECORD_SUFFIXES))
        except OSError:
            continue
        for name in yamls[:20]:
            folders_list = ", ".join(d + "/" for d in KIND_DIRS)
            out.append(
                Problem(
                    f"{entry.name}/{name}",
                    1,
                    1,
                    f"{entry.name}/ is not a record folder, so no check sees this file; records live in {folders_list}",
                    "file",
                )
            )
    return out


def _leaves(path: Path, root: Path) -> bool:
    """Whether ``path`` is a symbolic link whose target lies outside ``root``."""
    if not path.is_symlink():
        return False
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return True
    return False


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
    raw, problem = read_regular(path, shown)
    if raw is None:
        return None, [problem] if problem else []
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


def read_regular(
    path: Path, shown: str, *, max_bytes: int = MAX_BYTES, what: str = "a record", plain: str = "a plain .yaml file"
) -> tuple[bytes | None, Problem | None]:
    """The bytes of a regular file of at most ``max_bytes``. Anything else (a FIFO, a device such as /dev/zero,
    a socket) is refused without reading, and the file is opened without blocking, so nothing can hang or
    read without end. ``what`` and ``plain`` name the file in the messages."""

    def refuse(message: str, check: str = "file") -> tuple[None, Problem]:
        return None, Problem(shown, 1, 1, message, check)

    try:
        st = path.stat()
    except FileNotFoundError:
        return refuse("no such file")
    except OSError as exc:
        return refuse(f"cannot read the file: {exc.strerror}")
    if not stat.S_ISREG(st.st_mode):
        return refuse(f"is not a regular file (a FIFO, device or socket); {what} is {plain}")
    if st.st_size > max_bytes:
        return refuse(
            f"file is {st.st_size / 1e6:.1f} MB; {what} may be at most {max_bytes / 1e6:.0f} MB, so split it or trim it"
        )
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return refuse(f"cannot read the file: {exc.strerror}")
    try:
        st = os.fstat(fd)  # the file opened, which may not be the one stat() saw
        if not stat.S_ISREG(st.st_mode):
            return refuse(f"is not a regular file (a FIFO, device or socket); {what} is {plain}")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        return refuse(f"cannot read the file: {exc.strerror}")
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        return refuse(f"file is over {max_bytes / 1e6:.0f} MB; {what} may be at most that, so split it or trim it")
    return raw, None


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
            (
                "': ' inside an unquoted value starts a mapping; put the whole value "
                "in quotes (e.g. \"[redacted: detail]\") or use a block scalar '|'"
            ),
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
    if "&" in text and "*" in text and (bomb := _alias_expansion(text)):
        rec.problem(*bomb, "yaml-syntax")
        return rec
    try:
        data = parse_yaml(text)
    except yaml_rs.YAMLDecodeError as exc:
        line, col, msg = yaml_error(exc, text)
        rec.problem(line, col, msg, "yaml-syntax")
        return rec
    except (RecursionError, ValueError, OverflowError) as exc:
        rec.problem(*_locate_unreadable(text, exc), "yaml-syntax")
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
    for line, col, message, check in _scan_values(data, text):
        rec.problem(line, col, message, check)
    try:
        rec.payload = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, ValueError) as exc:  # a value JSON cannot hold; the policy above should prevent it
        if not rec.problems:
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
                mark = event.start_mark  # PyYAML's parser always sets it
                line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
                return line, col, tag.replace("tag:yaml.org,2002:", "!!")
    except yaml.YAMLError:
        return None
    return None


def _is_multi_document(text: str) -> bool:
    import yaml

    try:
        return sum(1 for _ in yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))) > 1
    except yaml.YAMLError:
        return False


EXPANDED_MAX = 5 * MAX_BYTES
"""The most characters a file may hold once its aliases are expanded (anchors may repeat a value, but a
1 MB file must not expand into gigabytes)."""

_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1  # what JSON (orjson) holds
_BIG_INT = "a number too large to hold; numbers here are small (quote it if it is text)"
_DIGITS_RE = re.compile(r"[0-9]{4000,}")
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CORE_SPECIAL = {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"}


def _alias_expansion(text: str) -> tuple[int, int, str] | None:
    """Where a file's aliases expand it beyond EXPANDED_MAX, computed on the unexpanded node graph (PyYAML
    composes an alias as the same node, so this takes time and memory in proportion to the file)."""
    import yaml

    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError):
        return None  # the parser reports it
    if root is None:
        return None
    size: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        if isinstance(node, yaml.ScalarNode):
            size[id(node)] = len(node.value) + 1
            continue
        children = [c for kv in node.value for c in kv] if isinstance(node, yaml.MappingNode) else node.value
        if done:
            size[id(node)] = 1 + sum(size.get(id(c), 0) for c in children)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)
    if size[id(root)] <= EXPANDED_MAX:
        return None
    first = re.search(r"(?:^|[\s\[{,:-])\*[^\s,\]}]+", text, re.MULTILINE)
    off = first.start() + (first.group()[0] != "*") if first else 0
    line, col = text.count("\n", 0, off) + 1, off - (text.rfind("\n", 0, off) + 1) + 1
    return (
        line,
        col,
        f"aliases expand this file to over {EXPANDED_MAX // 1_000_000} million characters (an alias bomb?); "
        "write the values out instead of using anchors",
    )


def _locate_unreadable(text: str, exc: BaseException) -> tuple[int, int, str]:
    """A position and message for input the parser gives up on: a number too long to convert, or nesting
    too deep to follow."""
    if isinstance(exc, ValueError) and (m := _DIGITS_RE.search(text)):
        line, col = text.count("\n", 0, m.start()) + 1, m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        return line, col, f"a number of {len(m.group())} digits; quote it if it is text, numbers here are small"
    if isinstance(exc, RecursionError):
        depth = 0
        for off, ch in enumerate(text):
            depth += (ch in "[{") - (ch in "]}")
            if depth > 100:
                line, col = text.count("\n", 0, off) + 1, off - (text.rfind("\n", 0, off) + 1) + 1
                return line, col, "nesting is too deep to read; records nest a few levels at most"
        return 1, 1, "nesting is too deep to read; records nest a few levels at most"
    return 1, 1, f"cannot read this YAML: {exc}"


def _scan_values(data: Any, text: str) -> list[tuple[int, int, str, str]]:
    """Values the loading policy refuses, located: control characters other than tab and newline in any
    text, keys that are not plain names, and YAML 1.2 core-schema .nan/.inf (a number JSON cannot hold).
    A spelling outside the core schema (e.g. '.Nan') is text, as for any YAML 1.2 loader; it is turned
    back into the string it was written as."""
    found: list[tuple[tuple, str, bool, str]] = []  # (path, message, at key, check)
    fix: list[tuple[Any, Any, tuple]] = []  # (container, key or index, path) of non-core .nan/.inf
    drop: list[tuple[dict, Any]] = []  # keys reported here and removed, so the schema does not report them again
    stack: list[tuple[Any, tuple]] = [(data, ())]
    while stack and len(found) < 50:
        node, path = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(k, str):
                    if _CONTROL_RE.search(k):
                        found.append(((*path, k), _control_message(k, "a key"), True, "control-character"))
                elif isinstance(k, float) and k != k or k in (float("inf"), float("-inf")):
                    found.append(
                        (
                            (*path, k),
                            f"key '{'.nan' if k != k else k}' is a number that JSON cannot hold; write a plain name",
                            True,
                            "key",
                        )
                    )
                    drop.append((node, k))
                elif isinstance(k, (tuple, list, dict, frozenset)):
                    found.append((path, "a key is a list or mapping; keys are plain names", False, "key"))
                if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
                    fix.append((node, k, (*path, k)))
                elif isinstance(v, int) and not isinstance(v, bool) and not _INT_MIN <= v <= _INT_MAX:
                    found.append(((*path, k), _BIG_INT, False, "yaml-number"))
                else:
                    stack.append((v, (*path, k)))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
                    fix.append((node, i, (*path, i)))
                elif isinstance(v, int) and not isinstance(v, bool) and not _INT_MIN <= v <= _INT_MAX:
                    found.append(((*path, i), _BIG_INT, False, "yaml-number"))
                else:
                    stack.append((v, (*path, i)))
        elif isinstance(node, str) and _CONTROL_RE.search(node):
            found.append((path, _control_message(node, "text"), False, "control-character"))
    out: list[tuple[int, int, str, str]] = []
    for mapping, k in drop:
        mapping.pop(k, None)
    if not found and not fix:
        return out
    from .locate import Locator

    loc = Locator(text)
    for container, key, path in fix:
        written = loc.scalar(path)
        if written is not None and written not in _CORE_SPECIAL:
            container[key] = written  # not a number under the YAML 1.2 core schema: the text as written
        else:
            line, col = loc.find(path)
            out.append(
                (
                    line,
                    col,
                    f"'{written or path[-1]}' is a number (not-a-number or infinity) in YAML; quote it if it is text",
                    "yaml-number",
                )
            )
    for path, message, at_key, check in found:
        line, col = _complex_key(loc.root) if check == "key" and not at_key else loc.find(path, key=at_key)
        out.append((line, col, message, check))
    return out


def _complex_key(root: Any) -> tuple[int, int]:
    """The position of the first key that is a list or mapping."""
    import yaml

    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if not isinstance(k, yaml.ScalarNode):
                    return k.start_mark.line + 1, k.start_mark.column + 1
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return 1, 1


def _control_message(value: str, what: str) -> str:
    ch = _CONTROL_RE.search(value).group()  # type: ignore[union-attr]
    return (
        f"{what} holds the control character U+{ord(ch):04X}; remove it (text may hold tab and newline, "
        "no other control characters)"
    )
