"""`riskcards assess run`: every in-scope card's example prompts sent to the target, logged.

* **Jobs.** For each card in scope (in the selection's order) and each example with a prompt (probes and
  demonstrations alike; withheld examples have no text and are never sent): the deployment's system prompt,
  then the example's conversation up to its last user turn.
* **Cache and resume.** A job's key (``log.batch_key``) hashes the model, parameters and messages. A job
  whose key is already logged with an answer is not sent again; a logged failure (timeouts, 5xx after
  retries) is retried on the next run. Each answer is appended and flushed as it arrives, so a killed
  run loses at most the requests in flight.
* **Sharding.** ``shard=(i, n)`` keeps the jobs whose key falls in bucket i of n (as the guard runner does).
* **Concurrency.** Worker threads send (``riskcards.guards.runner.start_workers``, shared with the guard
  runner); only the calling thread writes the logs, flushed after each batch of finished requests.
* **Test doubles** are refused for a knowledge base's assessments/ (before sending, and at write time).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..guards.hashing import example_messages
from ..guards.runner import drain, finished, in_shard, start_workers
from . import in_knowledge_base
from .log import LogWriter, batch_key, make_entry, now
from .target import RefusedError, Target, TransportError, refuse_test_double


@dataclass(frozen=True)
class Job:
    card: str
    example: str
    messages: tuple[tuple[str, str], ...]
    key: str

    def as_messages(self) -> list[dict[str, str]]:
        return [{"role": r, "content": c} for r, c in self.messages]


@dataclass
class Summary:
    planned: int = 0
    cached: int = 0
    sent: int = 0
    answered: int = 0
    failed: int = 0
    interrupted: bool = False
    test_double: bool = False
    by_card: dict[str, int] = field(default_factory=dict)


def plan(kb: Any, folder: Any, target: Target, *, cards: list[str] | None = None, shard=None) -> list[Job]:
    a = folder.assessment
    system = a.scope.interface.system_prompt
    wanted = cards or a.selection.cards
    jobs = []
    rec = target.record()
    for cid in wanted:
        card = kb.cards.get(cid)
        if card is None:
            continue
        for ex in card.examples:
            msgs = example_messages(ex, "prompt")
            if msgs is None:
                continue
            if system:
                msgs = [{"role": "system", "content": system}, *[m for m in msgs if m["role"] != "system"]]
            key = batch_key(rec, target.params, msgs)
            if in_shard(key, shard):
                jobs.append(Job(cid, ex.id, tuple((m["role"], m["content"]) for m in msgs), key))
    return jobs


def done_keys(folder: Any) -> set[str]:
    """Keys of batch exchanges already answered (failures do not count: a rerun retries them)."""
    return {
        e.key
        for entries in folder.logs.values()
        for e in entries
        if e.kind == "exchange" and e.key and e.error is None and e.output is not None
    }


def run(
    folder: Any,
    target: Target,
    jobs: list[Job],
    *,
    concurrency: int = 8,
    progress: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> Summary:
    summary = Summary(planned=len(jobs))
    have = done_keys(folder)
    pending: dict[str, list[Job]] = {}
    for job in jobs:
        if job.key in have:
            summary.cached += 1
        else:
            pending.setdefault(job.key, []).append(job)
    if progress and summary.cached:
        progress(summary.cached)
    guarded = in_knowledge_base(folder.dir)
    if pending:
        summary.test_double = refuse_test_double(folder.dir, target, target.probe())
    stop = stop or threading.Event()

    def send(key: str) -> tuple[Any, str]:
        at = now()
        try:
            return target.send(pending[key][0].as_messages()), at
        except TransportError as exc:  # failed for good after retries: logged, retried on the next run
            return exc, at

    left: dict[str, int] = {}  # requests still to be recorded per card; at 0 its log is finished
    for group in pending.values():
        for job in group:
            left[job.card] = left.get(job.card, 0) + 1
    done, running = start_workers(send, pending, concurrency, stop, "assess")
    rec = target.record()

    def record(writer: LogWriter, key: str, result: Any, at: str) -> None:
        test_double = target.test_double or bool(getattr(result, "test_double", False))
        if test_double:
            summary.test_double = True
            rec["source"] = "stub"
            if guarded:
                stop.set()
                raise RefusedError(f"a test double answered; its output never goes into {folder.dir}")
        summary.sent += 1
        for job in pending[key]:
            fields: dict[str, Any] = {
                "kind": "exchange",
                "at": at,
                "assessor": "batch",
                "card": job.card,
                "mode": "batch",
                "example": job.example,
                "key": key,
                "target": rec,
                "params": target.params,
                "messages": job.as_messages(),
            }
            if isinstance(result, TransportError):
                fields["error"] = str(result)[:500]
            else:
                fields.update(
                    output=result.raw, finish_reason=result.finish_reason, latency_ms=round(result.latency_ms, 3)
                )
            writer.write(make_entry(**fields), flush=False)
            summary.by_card[job.card] = summary.by_card.get(job.card, 0) + 1
            left[job.card] -= 1
            if not left[job.card]:
                writer.finish(job.card)
        if isinstance(result, TransportError):
            summary.failed += 1
        else:
            summary.answered += 1
        if progress:
            progress(len(pending[key]))

    with LogWriter(folder.dir) as writer:
        try:
            for finished_now in finished(done, running):
                for key, value in finished_now:
                    if isinstance(value, BaseException):  # a bug in a worker: stop and report it
                        stop.set()
                        raise value
                    record(writer, key, *value)
                writer.flush()
        except KeyboardInterrupt:
            summary.interrupted = True
            stop.set()
            for key, value in drain(done):
                record(writer, key, *value)
            writer.flush()
        finally:
            stop.set()
    return summary
