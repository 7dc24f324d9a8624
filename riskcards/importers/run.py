"""Import legacy lm_risk_cards files into ``<out>/cards/``: find files, parse, convert, write, report.

``import_lm_risk_cards(paths, out, ...)`` never raises on bad input: unreadable, binary or empty files,
folders without cards and id clashes are reported. Writing is atomic (temp file + ``os.replace``) and
happens only when the text changes, so a second import of the same files changes nothing. With
``check=True`` nothing is written; the report says what would be created or changed, with a diff.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import write_atomic
from . import lm_risk_cards as lmrc
from . import to_card

MAX_BYTES = 1_000_000
_LANG_DIR = re.compile(r"^[a-z]{2}(?:-[A-Z]{2})?$")


@dataclass
class CardResult:
    path: str  # as shown to the user
    format: str
    id: str
    out: str  # relative to the output folder
    status: str  # written | unchanged | would create | would change | not written
    counts: dict[str, int]
    notes: list[lmrc.Note]
    errors: list[str] = field(default_factory=list)
    diff: str = ""

    def as_json(self) -> dict:
        return {
            "source": self.path,
            "format": self.format,
            "id": self.id,
            "card": self.out,
            "status": self.status,
            "counts": self.counts,
            "normalisations": [_note_json(n) for n in self.notes if n.kind == "normalised"],
            "problems": [_note_json(n) for n in self.notes if n.kind == "problem"],
            "errors": self.errors,
            **({"diff": self.diff} if self.diff else {}),
        }


def _note_json(n: lmrc.Note) -> dict:
    return {"code": n.code, "line": n.line, "message": n.message}


@dataclass
class Report:
    out: str
    check: bool
    cards: list[CardResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(c.status in ("would create", "would change") for c in self.cards)

    @property
    def failed(self) -> bool:
        return bool(self.errors) or any(c.errors for c in self.cards)

    def exit_code(self) -> int:
        return 1 if self.failed or (self.check and self.changed) else 0

    def totals(self) -> dict[str, int]:
        keys = ["examples", "withheld", "placements", "harm_types", "references", "unmapped"]
        t = {k: sum(c.counts.get(k, 0) for c in self.cards) for k in keys}
        t["cards"] = len(self.cards)
        t["normalisations"] = sum(1 for c in self.cards for n in c.notes if n.kind == "normalised")
        t["problems"] = sum(1 for c in self.cards for n in c.notes if n.kind == "problem")
        t["errors"] = len(self.errors) + sum(len(c.errors) for c in self.cards)
        t["skipped"] = len(self.skipped)
        return {k: t[k] for k in ["cards", *keys, "normalisations", "problems", "errors", "skipped"]}

    def json(self) -> str:
        return (
            json.dumps(
                {
                    "command": "riskcards import lm-risk-cards",
                    "out": self.out,
                    "check": self.check,
                    "totals": self.totals(),
                    "cards": [c.as_json() for c in self.cards],
                    "skipped": [{"source": p, "reason": r} for p, r in self.skipped],
                    "errors": [{"source": p, "message": m} for p, m in self.errors],
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )

    def text(self) -> str:
        lines: list[str] = []
        for c in self.cards:
            n = c.counts
            lines.append(f"{c.path} ({c.format}) -> {c.out}: {c.status}")
            lines.append(
                f"  {_n(n['examples'], 'example')}"
                + (f" + {n['withheld']} withheld" if n["withheld"] else "")
                + f", {_n(n['placements'], 'placement')}, {_n(n['harm_types'], 'harm type')}, "
                f"{_n(n['references'], 'reference')}, {n['unmapped']} unmapped"
            )
            for note in sorted(c.notes, key=lambda x: (x.kind != "problem", x.line or 0)):
                where = f"{c.path}:{note.line}" if note.line else c.path
                label = "problem   " if note.kind == "problem" else "normalised"
                lines.append(f"  {label} {where}: {note.message} [{note.code}]")
            for err in c.errors:
                lines.append(f"  error      {c.path}: {err}")
            if c.diff:
                lines.extend("    " + d for d in c.diff.rstrip("\n").split("\n"))
        for p, why in self.skipped:
            lines.append(f"skipped {p}: {why}")
        for p, msg in self.errors:
            lines.append(f"error   {p}: {msg}")
        t = self.totals()
        verb = "checked" if self.check else "imported"
        by_status: dict[str, int] = {}
        for c in self.cards:
            by_status[c.status] = by_status.get(c.status, 0) + 1
        status = ", ".join(f"{v} {k}" for k, v in sorted(by_status.items()))
        lines.append(
            f"{verb} {_n(t['cards'], 'card')} into {self.out}" + (f" ({status})" if status else "") + ": "
            f"{_n(t['examples'], 'example')}, {t['withheld']} withheld, {_n(t['placements'], 'placement')}, "
            f"{_n(t['harm_types'], 'harm type')}, {_n(t['references'], 'reference')}, {t['unmapped']} unmapped; "
            f"{_n(t['normalisations'], 'normalisation')}, {_n(t['problems'], 'problem')}, {_n(t['errors'], 'error')}, "
            f"{t['skipped']} skipped"
        )
        return "\n".join(lines) + "\n"


def _n(k: int, word: str) -> str:
    return f"{k} {word}{'' if k == 1 else 's'}"


def _shown(path: Path) -> str:
    from ..problems import display_path

    return display_path(path)


def find_files(paths: list[Path], report: Report) -> list[tuple[Path, bool]]:
    """(file, named explicitly) for every candidate file, in a stable order; problems go to the report."""
    found: list[tuple[Path, bool]] = []
    for p in paths:
        if p.is_dir():
            files = sorted((f for f in p.rglob("*.md") if f.is_file()), key=lambda f: f.as_posix())
            cards = [f for f in files if not f.name.startswith("_")]
            for f in files:
                if f.name.startswith("_"):
                    report.skipped.append((_shown(f), "a template ('_' prefix), not a card"))
            if not cards:
                report.errors.append(
                    (
                        _shown(p),
                        (
                            "no legacy cards here (no *.md files other than "
                            "templates); pass a folder such as cards/en/ or card files"
                        ),
                    )
                )
            found.extend((f, False) for f in cards)
        elif p.exists() or p.is_symlink():
            if p.name.startswith("_"):
                report.skipped.append((_shown(p), "a template ('_' prefix), not a card"))
                continue
            found.append((p, True))
        else:
            report.errors.append((_shown(p), "no such file or folder"))
    seen: set[Path] = set()
    unique = []
    for f, explicit in found:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append((f, explicit))
    return unique


def _lang_for(path: Path, lang: str | None) -> str:
    if lang:
        return lang
    return path.parent.name if _LANG_DIR.match(path.parent.name) else "en"


def import_lm_risk_cards(
    paths: list[Path],
    out: Path,
    *,
    check: bool = False,
    created: str = to_card.DEFAULT_CREATED,
    lang: str | None = None,
    root: Path | None = None,
    force: bool = False,
) -> Report:
    """Import legacy cards from files and folders into ``out/cards/``. Never raises on bad input."""
    report = Report(out=_shown(out / "cards"), check=check)
    root = root if root is not None else out
    models = to_card.load_models(root)
    vocab = to_card.load_vocab(root)
    produced: dict[str, str] = {}
    for path, explicit in find_files(paths, report):
        shown = _shown(path)
        try:
            size = path.stat().st_size
            if size > MAX_BYTES:
                report.errors.append(
                    (
                        shown,
                        (
                            f"file is {size / 1e6:.1f} MB; a legacy card is a "
                            f"few KB (at most {MAX_BYTES // 1_000_000} MB read)"
                        ),
                    )
                )
                continue
            raw = path.read_bytes()
        except IsADirectoryError:
            report.errors.append((shown, "is a directory"))
            continue
        except OSError as exc:
            report.errors.append((shown, f"cannot read the file: {exc.strerror or exc}"))
            continue
        source = f"{path.parent.name}/{path.name}" if path.parent.name else path.name
        card, pre_notes, error = lmrc.parse(raw, stem=path.stem, source=source)
        if card is None:
            if explicit or not error or not error.startswith("not a legacy"):
                report.errors.append((shown, error or "cannot read the file"))
            else:
                report.skipped.append((shown, error))
            continue
        data = to_card.to_card_data(card, lang=_lang_for(path, lang), created=created, models=models, vocab=vocab)
        text = to_card.dump(data)
        cid = data["id"]
        rel = f"cards/{cid}.yaml"
        result = CardResult(
            path=shown,
            format=card.format or "?",
            id=cid,
            out=rel,
            status="",
            counts={
                "examples": sum(1 for e in data.get("examples", []) if e["sensitivity"] != "withheld"),
                "withheld": sum(1 for e in data.get("examples", []) if e["sensitivity"] == "withheld"),
                "placements": len(data.get("placements", [])),
                "harm_types": len(data["harm_types"]),
                "references": len(data.get("references", [])),
                "unmapped": len(data["import_notes"].get("unmapped", [])),
            },
            notes=card.notes,
        )
        report.cards.append(result)
        if cid in produced:
            result.errors.append(
                f"card id '{cid}' is already produced from {produced[cid]}; "
                "import the other form into a separate --out folder"
            )
            result.status = "not written"
            continue
        produced[cid] = shown
        for msg in to_card.check_card(text):
            result.errors.append(f"the produced card does not validate: {msg}")
        target = out / rel
        old = _read(target)
        if old is not None and old != text and not force and "\nimport_notes:" not in old:
            result.errors.append(
                f"{_shown(target)} exists and was not made by an import; not replaced (use --force to replace it)"
            )
            result.status = "not written"
            continue
        if old == text:
            result.status = "unchanged"
        elif check:
            result.status = "would create" if old is None else "would change"
            if old is not None:
                result.diff = "".join(
                    difflib.unified_diff(old.splitlines(True), text.splitlines(True), f"a/{rel}", f"b/{rel}", n=1)
                )
        else:
            try:
                write_atomic(target, text)
                result.status = "written"
            except OSError as exc:
                result.errors.append(f"cannot write {_shown(target)}: {exc.strerror or exc}")
                result.status = "not written"
    return report


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def write_report(report: Report, path: Path) -> None:
    """Write the report as JSON (``.json``) or text (anything else), atomically."""
    write_atomic(path, report.json() if path.suffix.lower() == ".json" else report.text())
