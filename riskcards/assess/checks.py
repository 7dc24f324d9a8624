"""`riskcards assess check ID --guard G`: guards over the logged answers, through the guard runner and its cache.

Each logged exchange with an answer becomes one guard job: the conversation as sent plus the answer,
judged as a response. The job's ``card`` is the card and its ``example`` the log entry id, so a verdict
names the entry it judged. Verdicts go to ``assessments/<id>/checks/<guard-id>.jsonl`` with the guard's
full provenance (guard id, model revision, template hash, parameters), and a rerun sends only what is not
recorded yet. They are reported beside the assessors' judgement, never instead of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..guards import runner, store
from .target import RefusedError


def checks_dir(folder: Path) -> Path:
    return Path(folder) / "checks"


def jobs(folder: Any, meta: runner.GuardMeta) -> list[runner.Job]:
    out = []
    for card in folder.assessment.selection.cards:
        for e in folder.logs.get(card, []):
            if e.kind != "exchange" or e.output is None:
                continue
            messages = [{"role": m.role, "content": m.content} for m in e.messages if m.role != "system"]
            messages.append({"role": "assistant", "content": e.output})
            out.append(runner.make_job(meta, card, e.id, "response", messages))
    return out


def run(kb: Any, folder: Any, cfg: Any, *, concurrency: int | None = None, progress=None) -> runner.RunSummary:
    """Run one configured guard over the folder's logged answers. Raises RefusedError for a test double
    whose verdicts would enter a knowledge base, and TransportError when the guard cannot be reached."""
    from . import in_knowledge_base

    conc = concurrency or cfg.entry.concurrency
    guard, meta = runner.open_guard(cfg, kb, concurrency=conc)
    try:
        todo = jobs(folder, meta)
        probe = getattr(guard.transport, "probe", None)
        if probe is not None and todo and in_knowledge_base(folder.dir) and probe().get("test_double"):
            raise RefusedError(f"guard '{cfg.id}' is a test double; its verdicts never go into {folder.dir}")
        return runner.run(
            guard,
            meta,
            todo,
            checks_dir(folder.dir),
            concurrency=conc,
            host=cfg.entry.host,
            runtime=cfg.entry.runtime,
            progress=progress,
        )
    finally:
        guard.transport.close()


def results(folder_dir: Path) -> dict[str, list[Any]]:
    """Recorded verdicts of the assessment, by guard id (the last verdict per entry counts)."""
    out: dict[str, list[Any]] = {}
    cdir = checks_dir(folder_dir)
    if not cdir.is_dir():
        return out
    for path in sorted(cdir.glob("*.jsonl")):
        latest: dict[tuple[str, str], Any] = {}
        for r in store.read_file(path):
            latest[(r.example.card, r.example.example)] = r
        out[path.stem] = list(latest.values())
    return out
