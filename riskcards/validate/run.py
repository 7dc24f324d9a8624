"""Running a validation: files -> load -> schema -> typed records -> checks across records -> result.

Which checks run on which record kind is the table ``RECORD_CHECKS`` (one module per kind), and the checks
over the whole knowledge base are ``KB_CHECKS``; a new record kind or check is one entry there.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import baselayer
from ..kb import KnowledgeBase
from ..load import Loaded, discover, load_many, strays
from ..models import KINDS, Card, Crosswalk, HarmTypeVocabulary, Incident, Model, Scenario, Taxonomy
from ..problems import Problem, cap_per_file, display_path
from . import cards, checks, crosswalks, incidents, models, taxonomies, vocabulary
from .common import Files
from .messages import salvage, schema_problems

RecordCheck = Callable[[KnowledgeBase, Any, str, Files, Callable[[Problem], None]], None]
KbCheck = Callable[[KnowledgeBase, Files, Callable[[Problem], None]], None]

RECORD_CHECKS: dict[type, RecordCheck] = {
    Taxonomy: taxonomies.check,
    HarmTypeVocabulary: vocabulary.check,
    Card: cards.check,
    Crosswalk: crosswalks.check,
    Model: models.check,
    Incident: incidents.check_incident,
}
"""The checks beyond the schema of one record (with the whole knowledge base to look things up in)."""

KB_CHECKS: list[KbCheck] = [cards.check_aliases, incidents.check]
"""Checks over the whole knowledge base, run after every record's own checks."""

OtherFiles = Callable[[Path, KnowledgeBase], list[Problem]]

OTHER_FILES: dict[str, OtherFiles] = {".jsonl": checks.guard_results}
"""Files that are not YAML records, by suffix, and the function that checks all of them in a knowledge base
(from the folder it owns, e.g. checks/*.jsonl); a file of that kind named on the command line is answered
by it instead of being parsed as YAML."""

_TABLES: dict[type, str] = {
    Card: "cards",
    Taxonomy: "taxonomies",
    Crosswalk: "crosswalks",
    Scenario: "scenarios",
    Model: "models",
    Incident: "incidents",
}


@dataclass
class Result:
    kb: KnowledgeBase
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(root: Path, paths: list[Path] | None = None, cache: RecordCache | None = None) -> Result:
    """Validate the knowledge base at ``root``. With ``paths``, report only problems in those files
    (the whole knowledge base is still read, so references across records are checked). With ``cache``
    (kept by a long-running process such as ``mkdocs serve``), files whose bytes did not change since the
    last validation are not parsed or schema-checked again; the result is the same."""
    root = Path(root)
    with _gc_paused():
        return _validate(root, paths, cache)


@dataclass
class RecordCache:
    """What validation learnt about each file on its own (parse and schema problems, the typed record),
    by shown path and a digest of the file's bytes. The checks across records always run over the whole
    knowledge base, so a cached validation reports exactly what an uncached one reports."""

    entries: dict[str, tuple[str, Loaded, Any, list[Problem]]] = field(default_factory=dict)
    reused: int = 0
    """Files taken from the cache by the last validation."""


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()
    except OSError:  # missing, a directory, unreadable: never cached, load_file reports it
        return None


@contextlib.contextmanager
def _gc_paused():
    """Bulk loading creates millions of objects that all stay alive; the cyclic garbage collector would
    rescan them again and again (measured: 60% of validation time on 10,000 cards). Nothing here makes
    reference cycles that need collecting, so pause it for the duration."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # the records live as long as the process; keep later collections from rescanning them
        if enabled:
            gc.enable()


def _validate(root: Path, paths: list[Path] | None, cache: RecordCache | None) -> Result:
    files = Files()
    kb = KnowledgeBase(root=root)
    problems: list[Problem] = []
    found = discover(root)
    found += baselayer.items(root, {shown for _, shown, _ in found})  # what ships with the package, if used
    problems.extend(strays(root))
    known = {shown for _, shown, _ in found}
    extra = []
    others = [p for p in paths or [] if Path(p).suffix in OTHER_FILES]
    for p in paths or []:
        shown = display_path(p, root)
        if shown not in known and p not in others:
            extra.append((p, shown, None))
            known.add(shown)
    items = [*found, *extra]
    digests: dict[str, str | None] = {}
    hits: dict[str, tuple[str, Loaded, Any, list[Problem]]] = {}
    if cache is not None:
        for path, shown, _kind in items:
            digests[shown] = d = _digest(path)
            entry = cache.entries.get(shown)
            if d is not None and entry is not None and entry[0] == d:
                hits[shown] = entry
        cache.entries = {k: v for k, v in cache.entries.items() if k in hits}
        cache.reused = len(hits)
    fresh = load_many([it for it in items if it[1] not in hits], root)
    typed: dict[str, tuple[Loaded, Any]] = {}
    partial: set[str] = set()
    for _path, shown, _kind in items:
        if shown in hits:
            _, rec, obj, own = hits[shown]
            files.loaded[shown] = rec
        else:
            rec = files.loaded[shown] = next(fresh)  # before _record, which may locate a problem in it
            obj, own = _record(files, rec)
            digest = digests.get(shown)
            if cache is not None and digest is not None:
                rec.text = rec._data = None  # both come back on demand (from the file, from the payload)
                cache.entries[shown] = (digest, rec, obj, own)
        problems.extend(rec.problems)
        problems.extend(own)
        if obj is not None:
            typed[shown] = (rec, obj)
            if own:
                partial.add(shown)
        if rec.digest is not None:
            kb.digests[shown] = rec.digest

    _collect(kb, typed, files, problems)
    _check_all(kb, typed, files, problems, frozenset(partial))
    problems.extend(_assessment_problems(root, kb))
    for check_files in OTHER_FILES.values():
        problems.extend(check_files(root, kb))
    for p in others:
        shown = display_path(p, root)
        if not shown.startswith("checks/"):
            problems.append(
                Problem(shown, 1, 1, "not a record; guard results (.jsonl) live in checks/, records are .yaml", "file")
            )

    if paths:
        wanted = {display_path(p, root) for p in paths}
        problems = [p for p in problems if p.path in wanted]
        checked = len(wanted)
    else:
        checked = len(files.loaded)
    # Drop repeats (e.g. the same file passed twice) and sort by file, line, column.
    return Result(kb=kb, problems=cap_per_file(list(set(problems))), checked=checked)


def _assessment_problems(root: Path, kb: KnowledgeBase) -> list[Problem]:
    """Assessment records, findings and logs (assessments/<id>/), checked against the knowledge base."""
    from .assessment_records import load_all

    kb.assessments, problems = load_all(root, kb)
    return problems


def _record(files: Files, rec: Loaded) -> tuple[Any, list[Problem]]:
    """The typed record of one loaded file (salvaged when it has schema errors) and its schema problems."""
    if rec.payload is None:
        return None, []
    if rec.kind is None:
        folders = ", ".join(
            k + "/"
            for k in ("cards", "taxonomies", "taxonomies/crosswalks", "scenarios", "models", "vocab", "incidents")
        )
        return None, [Problem(rec.shown, 1, 1, f"not in a record folder; records live in {folders}", "file")]
    model = KINDS[rec.kind]
    try:
        return model.model_validate_json(rec.payload), []
    except ValidationError as exc:
        own = schema_problems(files, rec, model, exc)
        if model is HarmTypeVocabulary or not isinstance(rec.data, dict):
            return None, own
        obj: Any = salvage(model, rec.data)
        return (None if obj.id is None else obj), own


def _collect(kb: KnowledgeBase, typed: dict, files: Files, problems: list[Problem]) -> None:
    """File name = id, unique ids, and the records into the knowledge base."""
    targets: dict[type, dict[str, Any]] = {
        Card: kb.cards,
        Taxonomy: kb.taxonomies,
        Crosswalk: kb.crosswalks,
        Scenario: kb.scenarios,
        Model: kb.models,
        Incident: kb.incidents,
    }
    kind_names: dict[type, str] = {
        Card: "card",
        Taxonomy: "taxonomy",
        Crosswalk: "crosswalk",
        Scenario: "scenario",
        Model: "model",
        Incident: "incident",
    }
    for shown, (rec, obj) in typed.items():
        if isinstance(obj, HarmTypeVocabulary):
            if kb.vocab is not None:
                problems.append(
                    files.at(
                        shown,
                        ("id",),
                        "a second harm-type vocabulary; keep exactly one, vocab/harm-types.yaml",
                        "duplicate-id",
                    )
                )
            kb.vocab = obj
            kb.paths[("harm-types", obj.id)] = shown
            continue
        stem = rec.path.stem
        if obj.id is None:
            continue
        if obj.id != stem:
            problems.append(
                files.at(
                    shown,
                    ("id",),
                    (
                        f"id '{obj.id}' differs from the file name '{rec.path.name}'; "
                        f"rename the file to '{obj.id}{rec.path.suffix}' or set 'id: {stem}'"
                    ),
                    "file-name",
                )
            )
        table = targets[type(obj)]
        if obj.id in table:
            first = kb.paths[(kind_names[type(obj)], obj.id)]
            problems.append(
                files.at(
                    shown,
                    ("id",),
                    (
                        f"{kind_names[type(obj)]} id '{obj.id}' is already "
                        f"used by {first}; ids are unique and never reused"
                    ),
                    "duplicate-id",
                )
            )
            continue
        table[obj.id] = obj
        kb.paths[(kind_names[type(obj)], obj.id)] = shown
    if kb.vocab is None and kb.cards:
        problems.append(
            Problem(
                display_path(kb.root / "vocab" / "harm-types.yaml", kb.root),
                1,
                1,
                "the harm-type vocabulary is missing; cards' harm types are checked against it",
                "missing-file",
            )
        )


def _check_all(
    kb: KnowledgeBase, typed: dict, files: Files, problems: list[Problem], partial: frozenset[str] = frozenset()
) -> None:
    add = problems.append
    for shown, (_rec, obj) in typed.items():
        check = RECORD_CHECKS.get(type(obj))
        if check is None:
            continue
        table = _TABLES.get(type(obj))
        if table is None or getattr(kb, table).get(obj.id) is obj:  # a record whose id is taken is not checked
            if shown in partial:
                _check_partial(check, kb, obj, shown, files, add)
            else:
                check(kb, obj, shown, files, add)
    for kb_check in KB_CHECKS:
        kb_check(kb, files, add)


def _check_partial(check: RecordCheck, kb: KnowledgeBase, obj: Any, shown: str, files: Files, add) -> None:
    """The checks of a partial record (salvaged from a file with schema errors, so any field may be None or
    missing) report what they can. A check that trips over a missing part adds nothing more: that part's
    schema problem is already reported, and the file cannot pass."""
    with contextlib.suppress(AttributeError, TypeError, KeyError, IndexError, ValueError):
        check(kb, obj, shown, files, add)


def load_kb(root: Path) -> Result:
    """The knowledge base for the index, site and exports: the same as ``validate(root)``."""
    return validate(root)
