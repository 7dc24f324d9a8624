"""Validation: schema checks on every file, then checks across records; every problem located.

    files -> load (plain data) -> schema (pydantic models, the source of the JSON Schema) -> typed records
          -> cross-record checks -> KnowledgeBase

``validate()`` returns the knowledge base (only valid records) and every problem found, sorted. Nothing
here raises on bad input and nothing prints; the CLI decides how to show the result.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import gc
import hashlib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, TypeAdapter, ValidationError

from . import content_rules, ids
from .kb import KnowledgeBase
from .load import Loaded, discover, load_many, read_text
from .locate import Locator
from .models import KINDS, Card, Crosswalk, HarmTypeVocabulary, Model, Scenario, Taxonomy
from .problems import Problem, display_path

_TYPE_NAMES = {
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
    type(None): "nothing (null)",
}
_EXPECTED = {
    "string_type": "a string (quote it if it looks like a number, date or boolean)",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list ('- item' lines)",
    "dict_type": "a mapping ('key: value' lines)",
    "model_type": "a mapping of fields ('key: value' lines)",
    "model_attributes_type": "a mapping of fields ('key: value' lines)",
}


@dataclass
class Result:
    kb: KnowledgeBase
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class _Files:
    """Source files by shown path, with a lazily built locator each."""

    def __init__(self) -> None:
        self.loaded: dict[str, Loaded] = {}
        self._loc: dict[str, Locator] = {}

    def locator(self, shown: str) -> Locator:
        if shown not in self._loc:
            rec = self.loaded[shown]
            if rec.text is None:  # parsed in a worker process, which keeps only the data
                rec.text, _ = read_text(rec.path, shown)
            self._loc[shown] = Locator(rec.text or "")
        return self._loc[shown]

    def at(self, shown: str, path: tuple, message: str, check: str, *, key: bool = False) -> Problem:
        line, col = self.locator(shown).find(path, key=key)
        return Problem(shown, line, col, message, check)


# --------------------------------------------------------------------------------------------------
# Schema errors -> located, actionable messages
# --------------------------------------------------------------------------------------------------


def _data_path(data: Any, loc: tuple) -> tuple:
    """The path in the YAML data for a pydantic error location (drops discriminator tags)."""
    out: list = []
    node = data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str):
            if part in node:
                out.append(part)
                node = node[part]
            elif node.get("kind") == part:
                continue  # discriminated-union tag, not a key
            else:
                out.append(part)
                node = None
        elif isinstance(node, list) and isinstance(part, int):
            out.append(part)
            node = node[part] if 0 <= part < len(node) else None
        else:
            if isinstance(part, str) and part in ("str", "int", "bool", "float", "list", "dict", "none"):
                continue  # union member names
            out.append(part)
            node = None
    return tuple(out)


def _model_at(model: type[BaseModel], path: tuple, data: Any) -> type[BaseModel] | None:
    """The record model that describes the mapping at ``path`` (for listing its allowed fields)."""
    current: Any = model
    node = data
    for part in path:
        if isinstance(node, list):
            node = node[part] if isinstance(part, int) and part < len(node) else None
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return None
        ann = current.model_fields[part].annotation
        node = node.get(part) if isinstance(node, dict) else None
        current = _unwrap(ann, node)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(ann: Any, node: Any) -> Any:
    """Strip Optional/list/Annotated down to the model the YAML node is checked against."""
    for _ in range(6):
        origin = typing.get_origin(ann)
        if origin is typing.Annotated or origin is list:
            ann = typing.get_args(ann)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(ann) if a is not type(None)]
            kind = node.get("kind") if isinstance(node, dict) else None
            picked = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel) and _tag(m) == kind]
            ann = picked[0] if picked else members[0]
        else:
            break
    return ann


def _tag(model: type[BaseModel]) -> str | None:
    f = model.model_fields.get("kind")
    if f is None:
        return None
    args = typing.get_args(f.annotation)
    return args[0] if len(args) == 1 else None


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def schema_message(err: dict, model: type[BaseModel], data: Any, path: tuple) -> tuple[str, bool]:
    """An actionable message for one pydantic error; the flag says whether to point at the key."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    name = path[-1] if path else "record"
    if kind == "missing":
        owner = _model_at(model, path[:-1], data)
        desc = owner.model_fields[name].description if owner and name in owner.model_fields else ""
        return f"missing required field '{name}'" + (f": {desc}" if desc else ""), True
    if kind == "extra_forbidden":
        owner = _model_at(model, path[:-1], data)
        allowed = list(owner.model_fields) if owner else []
        allowed = ["schema" if a == "schema_" else a for a in allowed]
        hint = ids.did_you_mean(str(name), allowed)
        return f"unknown field '{name}'{hint}; allowed here: {', '.join(allowed)}", True
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
        return (
            f"{_describe(value)} is not allowed for '{name}'{ids.did_you_mean(str(value), options)}; write one of: {', '.join(options)}",
            False,
        )
    if kind == "string_pattern_mismatch":
        hint = ids.PATTERN_HINTS.get(ctx.get("pattern", ""), f"a string matching {ctx.get('pattern')}")
        return f"{_describe(value)} is not valid for '{name}': write {hint}", False
    if kind in _EXPECTED:
        # A whole list or mapping of the wrong shape is pointed at by its key; a scalar by its value.
        return f"'{name}' must be {_EXPECTED[kind]}, not {_describe(value)}", isinstance(value, (list, dict))
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return f"'{name}' needs at least {n} item{'s' * (n != 1)}", False
    if kind == "string_too_short":
        return f"'{name}' must not be empty", False
    if kind == "string_too_long":
        return f"'{name}' is longer than {ctx.get('max_length')} characters; shorten it", False
    if kind == "union_tag_invalid":
        return f"'kind' {_describe(ctx.get('tag'))} is not known; write one of: {ctx.get('expected_tags')}", False
    if kind == "union_tag_not_found":
        return (
            f"'{name}' needs 'kind: illustrative' (written by a contributor) or 'kind: observed' (real model output)",
            False,
        )
    return f"'{name}': {err['msg']}", False


def _schema_problems(files: _Files, rec: Loaded, model: type[BaseModel], exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        path = _data_path(rec.data, err["loc"])
        message, at_key = schema_message(err, model, rec.data, path)
        if err["type"] == "missing":
            line, col = files.locator(rec.shown).key_of_parent(path[:-1])
        else:
            line, col = files.locator(rec.shown).find(path, key=at_key)
        out.append(Problem(rec.shown, line, col, message, "schema"))
    return out


_ADAPTERS: dict[tuple[type, str, bool], TypeAdapter] = {}


def _adapter(model: type[BaseModel], name: str, item: bool = False) -> TypeAdapter:
    key = (model, name, item)
    if key not in _ADAPTERS:
        info = model.model_fields[name]
        ann = info.annotation
        if item:
            ann = typing.get_args(ann)[0]
            _ADAPTERS[key] = TypeAdapter(ann)
        else:
            _ADAPTERS[key] = TypeAdapter(typing.Annotated[ann, *info.metadata] if info.metadata else ann)
    return _ADAPTERS[key]


def salvage(model: type[BaseModel], data: dict) -> BaseModel:
    """A partial record built from the fields (and list items) that are valid on their own.

    A file with schema errors still gets the checks beyond the schema on everything else, so a
    contributor sees every problem in one run. Missing or invalid required fields are None, and so
    are invalid list items (so the valid ones keep their indexes); the checks skip what is None.
    Partial records only ever appear in a result that has problems.
    """
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        if key not in data:
            values[name] = default
            continue
        value = data[key]
        try:
            values[name] = _adapter(model, name).validate_python(value, strict=True)
            continue
        except ValidationError:
            pass
        if isinstance(value, list) and typing.get_origin(info.annotation) is list:
            item = _adapter(model, name, item=True)
            kept: list[Any] = []
            for v in value:
                try:
                    kept.append(item.validate_python(v, strict=True))
                except ValidationError:
                    kept.append(None)  # keeps the indexes of the valid items, which locate problems
            values[name] = kept
        else:
            values[name] = default
    return model.model_construct(**values)


# --------------------------------------------------------------------------------------------------
# Loading the knowledge base
# --------------------------------------------------------------------------------------------------


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
    files = _Files()
    kb = KnowledgeBase(root=root)
    problems: list[Problem] = []
    found = discover(root)
    known = {shown for _, shown, _ in found}
    extra = []
    for p in paths or []:
        shown = display_path(p, root)
        if shown not in known:
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
    for _path, shown, _kind in items:
        if shown in hits:
            _, rec, obj, own = hits[shown]
            files.loaded[shown] = rec
        else:
            rec = files.loaded[shown] = next(fresh)  # before _record, which may locate a problem in it
            obj, own = _record(files, rec)
            if cache is not None and digests[shown] is not None:
                rec.text = rec._data = None  # both come back on demand (from the file, from the payload)
                cache.entries[shown] = (digests[shown], rec, obj, own)
        problems.extend(rec.problems)
        problems.extend(own)
        if obj is not None:
            typed[shown] = (rec, obj)
        if rec.digest is not None:
            kb.digests[shown] = rec.digest

    _collect(kb, typed, files, problems)
    _check_all(kb, typed, files, problems)
    problems.extend(_assessment_problems(root, kb))

    if paths:
        wanted = {display_path(p, root) for p in paths}
        problems = [p for p in problems if p.path in wanted]
        checked = len(wanted)
    else:
        checked = len(files.loaded)
    # Drop repeats (e.g. the same file passed twice) and sort by file, line, column.
    return Result(kb=kb, problems=sorted(set(problems)), checked=checked)


def _assessment_problems(root: Path, kb: KnowledgeBase) -> list[Problem]:
    """Assessment records, findings and logs (assessments/<id>/), checked against the knowledge base."""
    from .assess.records import load_all

    return load_all(root, kb)[1]


def _record(files: _Files, rec: Loaded) -> tuple[Any, list[Problem]]:
    """The typed record of one loaded file (salvaged when it has schema errors) and its schema problems."""
    if rec.payload is None:
        return None, []
    if rec.kind is None:
        folders = ", ".join(
            k + "/" for k in ("cards", "taxonomies", "taxonomies/crosswalks", "scenarios", "models", "vocab")
        )
        return None, [Problem(rec.shown, 1, 1, f"not in a record folder; records live in {folders}", "file")]
    model = KINDS[rec.kind]
    try:
        return model.model_validate_json(rec.payload), []
    except ValidationError as exc:
        own = _schema_problems(files, rec, model, exc)
        if model is HarmTypeVocabulary or not isinstance(rec.data, dict):
            return None, own
        obj = salvage(model, rec.data)
        return (None if obj.id is None else obj), own


def _collect(kb: KnowledgeBase, typed: dict, files: _Files, problems: list[Problem]) -> None:
    """File name = id, unique ids, and the records into the knowledge base."""
    targets = {
        Card: kb.cards,
        Taxonomy: kb.taxonomies,
        Crosswalk: kb.crosswalks,
        Scenario: kb.scenarios,
        Model: kb.models,
    }
    kind_names = {Card: "card", Taxonomy: "taxonomy", Crosswalk: "crosswalk", Scenario: "scenario", Model: "model"}
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
                    f"id '{obj.id}' differs from the file name '{rec.path.name}'; rename the file to '{obj.id}{rec.path.suffix}' or set 'id: {stem}'",
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
                    f"{kind_names[type(obj)]} id '{obj.id}' is already used by {first}; ids are unique and never reused",
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


# --------------------------------------------------------------------------------------------------
# Checks beyond the schema
# --------------------------------------------------------------------------------------------------


def _date(value: str | None) -> _dt.date | None:
    try:
        return _dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def url_problem(url: str) -> str | None:
    """Why a URL is not well formed, or None."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not host or ("." not in host and host != "localhost"):
        return f"has no valid host name ({host or 'empty'})"
    if any(ch in url for ch in ' <>"{}|\\^`'):
        return "contains characters that must be percent-encoded (space, quotes, angle brackets)"
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "has an invalid port"
    return None


def _check_all(kb: KnowledgeBase, typed: dict, files: _Files, problems: list[Problem]) -> None:
    add = problems.append
    for shown, (_rec, obj) in typed.items():
        if isinstance(obj, Taxonomy) and kb.taxonomies.get(obj.id) is obj:
            _check_taxonomy(obj, shown, files, add)
        elif isinstance(obj, HarmTypeVocabulary):
            _check_vocab(obj, shown, files, add)
    for shown, (_rec, obj) in typed.items():
        if isinstance(obj, Card) and kb.cards.get(obj.id) is obj:
            _check_card(kb, obj, shown, files, add)
        elif isinstance(obj, Crosswalk) and kb.crosswalks.get(obj.id) is obj:
            _check_crosswalk(kb, obj, shown, files, add)
        elif isinstance(obj, Model) and kb.models.get(obj.id) is obj:
            _check_model(kb, obj, shown, files, add)
    _check_aliases(kb, files, add)


def _check_taxonomy(tax: Taxonomy, shown: str, files: _Files, add) -> None:
    seen: dict[str, int] = {}
    cats = [c for c in tax.categories or [] if c is not None]
    for i, cat in enumerate(tax.categories or []):
        if cat is None:
            continue
        if cat.code in seen:
            add(
                files.at(
                    shown,
                    ("categories", i, "code"),
                    f"code '{cat.code}' appears twice (first at category {seen[cat.code] + 1}); codes are unique within a taxonomy",
                    "duplicate-code",
                )
            )
        seen.setdefault(cat.code, i)
    levels = {c.code: c.level for c in cats}
    for i, cat in enumerate(tax.categories or []):
        if cat is None:
            continue
        for fld in ("parent", "also_parent"):
            parent = getattr(cat, fld)
            if parent is None:
                continue
            if parent not in levels:
                add(
                    files.at(
                        shown,
                        ("categories", i, fld),
                        f"{fld} '{parent}' is not a code of this taxonomy{ids.did_you_mean(parent, levels)}",
                        "unknown-code",
                    )
                )
            elif fld == "parent" and levels[parent] != cat.level - 1:
                add(
                    files.at(
                        shown,
                        ("categories", i, "level"),
                        f"level {cat.level} does not follow its parent '{parent}' (level {levels[parent]}); write level: {levels[parent] + 1}",
                        "hierarchy",
                    )
                )
        if cat.parent is None and cat.level != 1:
            add(
                files.at(
                    shown,
                    ("categories", i, "level"),
                    f"a category without a parent is level 1, not {cat.level}",
                    "hierarchy",
                )
            )
    _check_missing_levels(tax, cats, shown, files, add)


def _check_missing_levels(tax: Taxonomy, cats: list, shown: str, files: _Files, add) -> None:
    """A missing level is deeper than level 1 and at most one below the levels listed or declared missing; a
    published count is not smaller than the categories listed at that level; a level is declared once."""
    listed = {c.level for c in cats}
    counts = {lvl: sum(1 for c in cats if c.level == lvl) for lvl in listed}
    declared: set[int] = set()
    for i, ml in enumerate(tax.missing_levels or []):
        if ml is None:
            continue
        here = ("missing_levels", i, "level")
        if ml.level in declared:
            add(files.at(shown, here, f"level {ml.level} is declared missing twice", "missing-level"))
        elif ml.level not in listed and ml.level - 1 not in listed | declared:
            add(
                files.at(
                    shown,
                    here,
                    f"level {ml.level} cannot be missing when level {ml.level - 1} is neither listed nor declared "
                    "missing",
                    "missing-level",
                )
            )
        elif ml.published_count is not None and ml.published_count < counts.get(ml.level, 0):
            add(
                files.at(
                    shown,
                    ("missing_levels", i, "published_count"),
                    f"published_count {ml.published_count} is smaller than the {counts[ml.level]} categories "
                    f"listed at level {ml.level}",
                    "missing-level",
                )
            )
        declared.add(ml.level)


def _check_vocab(vocab: HarmTypeVocabulary, shown: str, files: _Files, add) -> None:
    for group in ("actors", "categories"):
        terms = getattr(vocab, group)
        known = {t.id for t in terms}
        seen: set[str] = set()
        for i, term in enumerate(terms):
            if term.id in seen:
                add(files.at(shown, (group, i, "id"), f"'{term.id}' appears twice in {group}", "duplicate-id"))
            seen.add(term.id)
            if term.synonym_of and term.synonym_of not in known:
                add(
                    files.at(
                        shown,
                        (group, i, "synonym_of"),
                        f"synonym_of '{term.synonym_of}' is not one of the {group}{ids.did_you_mean(term.synonym_of, known)}",
                        "unknown-id",
                    )
                )


def _check_ref(kb: KnowledgeBase, ref: str, shown: str, path: tuple, files: _Files, add) -> bool:
    taxonomy_id, _, code = ref.partition(":")
    if taxonomy_id not in kb.taxonomies:
        add(
            files.at(
                shown,
                path,
                f"unknown taxonomy '{taxonomy_id}'{ids.did_you_mean(taxonomy_id, kb.taxonomies)}; taxonomies are the files in taxonomies/",
                "unknown-taxonomy",
            )
        )
        return False
    codes = kb.codes(taxonomy_id)
    if code not in codes:
        near = ids.closest(code, codes, n=3)
        hint = (
            f"; closest valid codes: {', '.join(near)}"
            if near
            else f"; valid codes start {', '.join(list(codes)[:6])} ..."
        )
        add(files.at(shown, path, f"'{code}' is not a code of {taxonomy_id}{hint}", "unknown-code"))
        return False
    return True


def _check_card(kb: KnowledgeBase, card: Card, shown: str, files: _Files, add) -> None:
    actors, cats = kb.actors(), kb.harm_categories()
    guards = kb.guards()
    guard_codes = kb.guard_codes()
    if kb.vocab is not None:
        for i, ht in enumerate(card.harm_types or []):
            if ht is None:
                continue
            if ht.actor not in actors:
                add(
                    files.at(
                        shown,
                        ("harm_types", i, "actor"),
                        f"unknown actor '{ht.actor}'{ids.did_you_mean(ht.actor, actors)}; actors: {', '.join(sorted(actors))}",
                        "vocabulary",
                    )
                )
            if ht.category not in cats:
                add(
                    files.at(
                        shown,
                        ("harm_types", i, "category"),
                        f"unknown harm category '{ht.category}'{ids.did_you_mean(ht.category, cats)}; categories: {', '.join(sorted(cats))}",
                        "vocabulary",
                    )
                )
        _dupes(
            card.harm_types or [],
            lambda h: (h.actor, h.category),
            lambda i: ("harm_types", i),
            "harm type",
            shown,
            files,
            add,
        )

    for i, pl in enumerate(card.placements):
        if pl is None:
            continue
        _check_ref(kb, pl.ref, shown, ("placements", i, "ref"), files, add)
    _dupes(card.placements, lambda p: p.ref, lambda i: ("placements", i, "ref"), "placement", shown, files, add)

    _dupes(card.examples, lambda e: e.id, lambda i: ("examples", i, "id"), "example id", shown, files, add)
    for i, ex in enumerate(card.examples):
        if ex is None:
            continue
        base = ("examples", i)
        has_text = [f for f in ("prompt", "output", "turns") if getattr(ex, f) is not None]
        if ex.sensitivity == "withheld":
            for f in has_text:
                add(
                    files.at(
                        shown,
                        (*base, f),
                        f"a withheld example carries no text; remove '{f}' and keep only 'withheld_reason'",
                        "withheld",
                    )
                )
            if not ex.withheld_reason:
                add(
                    files.at(
                        shown,
                        (*base, "sensitivity"),
                        "a withheld example needs 'withheld_reason': say why the text is not published",
                        "withheld",
                    )
                )
        else:
            if ex.withheld_reason:
                add(
                    files.at(
                        shown,
                        (*base, "withheld_reason"),
                        f"'withheld_reason' is only for withheld examples; this one is '{ex.sensitivity}'",
                        "withheld",
                    )
                )
            if ex.turns is not None and (ex.prompt is not None or ex.output is not None):
                add(
                    files.at(
                        shown,
                        (*base, "turns"),
                        "write either 'prompt' and 'output' or 'turns', not both",
                        "example-text",
                    )
                )
            elif ex.turns is None and (ex.prompt is None or ex.output is None):
                missing = "prompt" if ex.prompt is None else "output"
                add(
                    files.at(
                        shown,
                        base,
                        f"example needs '{missing}' (or a conversation in 'turns', or sensitivity: withheld)",
                        "example-text",
                    )
                )
            elif ex.turns is not None and not any(t.role == "assistant" for t in ex.turns):
                add(
                    files.at(
                        shown,
                        (*base, "turns"),
                        "a conversation needs at least one 'assistant' turn showing the model's behaviour",
                        "example-text",
                        key=True,
                    )
                )
            if ex.sensitivity == "defanged":
                texts = [ex.prompt or "", ex.output or "", *(t.content for t in ex.turns or [])]
                if not any("[redacted" in t for t in texts):
                    add(
                        files.at(
                            shown,
                            (*base, "sensitivity"),
                            "a defanged example marks what was removed with '[redacted: what]'; add the marker or use sensitivity: full",
                            "defanged",
                        )
                    )
        prov = ex.provenance
        if prov.kind == "observed":
            if prov.model != "unknown" and prov.model not in kb.models:
                add(
                    files.at(
                        shown,
                        (*base, "provenance", "model"),
                        f"unknown model '{prov.model}'{ids.did_you_mean(prov.model, kb.models)}; add models/{prov.model}.yaml or write 'model: unknown' with 'model_name'",
                        "unknown-model",
                    )
                )
            if prov.date and _date(prov.date) is None:
                add(files.at(shown, (*base, "provenance", "date"), f"'{prov.date}' is not a real date", "date"))
        seen_exp: set = set()
        withheld = ex.sensitivity == "withheld"
        for j, exp in enumerate(ex.expected):  # the hot loop of validation: ~14 expectations a card
            codes = guard_codes.get(exp.guard)
            if codes is None:
                hint = ids.did_you_mean(exp.guard, guards)
                add(
                    files.at(
                        shown,
                        (*base, "expected", j, "guard"),
                        f"'{exp.guard}' is not a guard model{hint}; guards are model records with a 'guard' section",
                        "unknown-guard",
                    )
                )
            elif exp.categories:
                for k, code in enumerate(exp.categories):
                    if code not in codes:
                        taxonomy = guards[exp.guard].guard.taxonomy
                        add(
                            files.at(
                                shown,
                                (*base, "expected", j, "categories", k),
                                f"'{code}' is not a category of {taxonomy} (the taxonomy of {exp.guard}){ids.did_you_mean(code, codes)}",
                                "unknown-code",
                            )
                        )
            if exp.categories and exp.verdict == "safe":
                add(
                    files.at(
                        shown,
                        (*base, "expected", j, "categories"),
                        "categories go with verdict 'unsafe'; remove them or expect 'unsafe'",
                        "expectation",
                    )
                )
            key = (exp.guard, exp.target)
            if key in seen_exp:
                add(
                    files.at(
                        shown,
                        (*base, "expected", j, "guard"),
                        f"a second expectation for guard '{exp.guard}' on the {exp.target}; keep one",
                        "expectation",
                    )
                )
            seen_exp.add(key)
            if withheld:
                add(
                    files.at(
                        shown,
                        (*base, "expected", j, "guard"),
                        "a withheld example has no text for a guard to classify; remove 'expected'",
                        "expectation",
                    )
                )

    for i, link in enumerate(card.scenarios):
        if link is None:
            continue
        if link.scenario not in kb.scenarios:
            add(
                files.at(
                    shown,
                    ("scenarios", i, "scenario"),
                    f"unknown scenario '{link.scenario}'{ids.did_you_mean(link.scenario, kb.scenarios)}; scenarios are the files in scenarios/",
                    "unknown-scenario",
                )
            )
    _dupes(card.scenarios, lambda s: s.scenario, lambda i: ("scenarios", i, "scenario"), "scenario", shown, files, add)

    for i, ref in enumerate(card.references):
        if ref is None:
            continue
        if ref.url is None and ref.doi is None:
            add(
                files.at(
                    shown, ("references", i), "a reference needs a 'url' or a 'doi' so readers can find it", "reference"
                )
            )
        if ref.url is not None and (why := url_problem(ref.url)):
            add(files.at(shown, ("references", i, "url"), f"URL {why}", "url"))

    content_rules.check_card(kb, card, lambda path, msg, check: files.at(shown, path, msg, check), add)
    _check_lifecycle(kb, card, shown, files, add)


def _check_lifecycle(kb: KnowledgeBase, card: Card, shown: str, files: _Files, add) -> None:
    created = _date(card.created)
    if created is None and card.created is not None:
        add(files.at(shown, ("created",), f"'{card.created}' is not a real date", "date"))
    if card.last_reviewed is not None:
        reviewed = _date(card.last_reviewed)
        if reviewed is None:
            add(files.at(shown, ("last_reviewed",), f"'{card.last_reviewed}' is not a real date", "date"))
        elif created and reviewed < created:
            add(
                files.at(
                    shown,
                    ("last_reviewed",),
                    f"last_reviewed {card.last_reviewed} is before created {card.created}",
                    "date",
                )
            )
    if card.status == "reviewed":
        if not card.reviewers:
            add(files.at(shown, ("status",), "status 'reviewed' needs 'reviewers' (who reviewed it)", "lifecycle"))
        if card.last_reviewed is None:
            add(files.at(shown, ("status",), "status 'reviewed' needs 'last_reviewed' (when, YYYY-MM-DD)", "lifecycle"))
    if card.status == "deprecated" and not card.deprecated_reason:
        add(
            files.at(
                shown, ("status",), "status 'deprecated' needs 'deprecated_reason' (why it was retired)", "lifecycle"
            )
        )
    if card.status != "deprecated" and card.deprecated_reason:
        add(
            files.at(
                shown,
                ("deprecated_reason",),
                f"'deprecated_reason' is only for deprecated cards; this one is '{card.status}'",
                "lifecycle",
            )
        )
    if card.superseded_by is not None:
        target = kb.cards.get(card.superseded_by)
        if card.superseded_by == card.id:
            add(files.at(shown, ("superseded_by",), "a card cannot supersede itself", "lifecycle"))
        elif target is None:
            add(
                files.at(
                    shown,
                    ("superseded_by",),
                    f"superseded_by '{card.superseded_by}' is not a card{ids.did_you_mean(card.superseded_by, kb.cards)}",
                    "unknown-card",
                )
            )
        elif target.status == "deprecated":
            add(
                files.at(
                    shown,
                    ("superseded_by",),
                    f"superseded_by '{card.superseded_by}' is itself deprecated; point at a live card",
                    "lifecycle",
                )
            )
        if card.status != "deprecated":
            add(
                files.at(
                    shown,
                    ("superseded_by",),
                    "only a deprecated card has 'superseded_by'; set status: deprecated with a reason",
                    "lifecycle",
                )
            )
    versions = [e.version for e in card.changelog]
    for i, entry in enumerate(card.changelog):
        if _date(entry.date) is None:
            add(files.at(shown, ("changelog", i, "date"), f"'{entry.date}' is not a real date", "date"))
        if versions.count(entry.version) > 1 and versions.index(entry.version) != i:
            add(
                files.at(
                    shown,
                    ("changelog", i, "version"),
                    f"version {entry.version} appears twice in the changelog",
                    "lifecycle",
                )
            )
    if versions and card.version is not None and _semver(versions[-1]) > _semver(card.version):
        add(
            files.at(
                shown,
                ("version",),
                f"version {card.version} is older than the newest changelog entry ({versions[-1]}); bump it",
                "lifecycle",
            )
        )


def _semver(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def _check_crosswalk(kb: KnowledgeBase, cw: Crosswalk, shown: str, files: _Files, add) -> None:
    ok = True
    for end in ("source", "target"):
        tid = getattr(cw, end)
        if tid not in kb.taxonomies:
            add(
                files.at(
                    shown, (end,), f"unknown taxonomy '{tid}'{ids.did_you_mean(tid, kb.taxonomies)}", "unknown-taxonomy"
                )
            )
            ok = False
    if cw.source == cw.target:
        add(files.at(shown, ("target",), "a crosswalk relates two different taxonomies", "crosswalk"))
    if not ok:
        return
    for i, row in enumerate(cw.relations or []):
        if row is None:
            continue
        _check_ref(kb, f"{cw.source}:{row.source}", shown, ("relations", i, "source"), files, add)
        _check_ref(kb, f"{cw.target}:{row.target}", shown, ("relations", i, "target"), files, add)
    _dupes(
        cw.relations or [],
        lambda r: (r.source, r.target),
        lambda i: ("relations", i, "source"),
        "relation",
        shown,
        files,
        add,
    )
    for i, ref in enumerate(cw.references):
        if ref is not None and ref.url is not None and (why := url_problem(ref.url)):
            add(files.at(shown, ("references", i, "url"), f"URL {why}", "url"))


def _check_model(kb: KnowledgeBase, model: Model, shown: str, files: _Files, add) -> None:
    if model.kind in ("guard-model", "classifier") and model.guard is None:
        add(
            files.at(
                shown,
                ("kind",),
                f"a {model.kind} needs a 'guard' section naming the taxonomy of its categories",
                "model",
            )
        )
    if model.kind == "language-model" and model.guard is not None:
        add(
            files.at(
                shown,
                ("guard",),
                "only guard models and classifiers have a 'guard' section; set kind: guard-model",
                "model",
            )
        )
    if model.guard is not None and model.guard.taxonomy not in kb.taxonomies:
        add(
            files.at(
                shown,
                ("guard", "taxonomy"),
                f"unknown taxonomy '{model.guard.taxonomy}'{ids.did_you_mean(model.guard.taxonomy, kb.taxonomies)}",
                "unknown-taxonomy",
            )
        )
    if model.url is not None and (why := url_problem(model.url)):
        add(files.at(shown, ("url",), f"URL {why}", "url"))
    if model.released is not None and _date(model.released) is None:
        add(files.at(shown, ("released",), f"'{model.released}' is not a real date", "date"))


def _check_aliases(kb: KnowledgeBase, files: _Files, add) -> None:
    """Card ids and aliases share one namespace: an alias never names another card or a second alias."""
    owner: dict[str, str] = {cid: cid for cid in kb.cards}
    for cid, card in kb.cards.items():
        shown = kb.paths[("card", cid)]
        for i, alias in enumerate(card.aliases):
            if alias == cid:
                add(files.at(shown, ("aliases", i), "a card's alias cannot be its own id", "alias"))
            elif alias in owner and owner[alias] != cid:
                other = owner[alias]
                what = "the id of card" if alias == other else "already an alias of card"
                add(
                    files.at(
                        shown,
                        ("aliases", i),
                        f"alias '{alias}' is {what} '{other}'; ids and aliases are unique across the knowledge base",
                        "alias",
                    )
                )
            else:
                owner[alias] = cid


def _dupes(items, key, path, what: str, shown: str, files: _Files, add) -> None:
    seen: dict = {}
    for i, item in enumerate(items):
        if item is None:
            continue
        k = key(item)
        if k in seen:
            add(
                files.at(
                    shown,
                    path(i),
                    f"duplicate {what} {k if isinstance(k, str) else '/'.join(k)!r} (also item {seen[k] + 1}); remove one",
                    "duplicate",
                )
            )
        else:
            seen[k] = i


def load_kb(root: Path) -> Result:
    """The knowledge base for the index, site and exports: the same as ``validate(root)``."""
    return validate(root)
