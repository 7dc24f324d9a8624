"""The guard runner: examples -> jobs -> guard (formatter -> transport -> parser) -> checks/<guard-id>.jsonl.

* **Selection.** Every example of the selected cards (default: all), for the default targets: the response
  when the example has one, else the prompt, plus every target that an expectation for this guard names.
  ``targets`` can ask for 'prompt', 'response' or 'both' instead. Withheld examples have no text and are
  never sent.
* **Sharding.** ``shard=(i, n)`` keeps the jobs whose cache key falls in bucket i of n, so n machines can
  split one run (each writes its own file; merge them with ``riskcards guard import``).
* **Cache and resume.** A job whose cache key is already recorded in the output file is not sent; if the
  key is recorded for another example with the same input, the verdict is copied without a request. Error
  verdicts caused by the transport (timeouts, 5xx after retries) do not count as done, so a rerun retries
  them; parse errors are final (the model said something unusable). Results are appended one line at a
  time and flushed, so an interrupted run resumes where it stopped.
* **Concurrency.** ``concurrency`` worker threads take jobs from a queue; only the calling thread writes.
  The transport retries 429/5xx with backoff.
* **Test doubles never enter checks/.** Results from a server that identifies as a test double are marked
  ``run.source: stub`` and the runner refuses to write them into a knowledge base's checks/ folder.
"""

from __future__ import annotations

import datetime as _dt
import queue
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import store
from .hashing import cache_key, canonical_json, example_messages, input_sha256
from .protocol import Guard, GuardInput, Outcome, TransportError

Targets = str  # "default" | "prompt" | "response" | "both"


class RefusedError(Exception):
    """The runner will not do this (e.g. write test-double verdicts into checks/)."""


@dataclass(frozen=True)
class GuardMeta:
    """Everything recorded about the guard in each result (ResultGuard), fixed for a run."""

    id: str
    adapter: str
    model: str
    model_name: str
    revision: str | None
    taxonomy: str
    transport: str
    template_id: str
    template_sha256: str | None
    params: dict[str, Any]

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "adapter": self.adapter,
            "model": self.model,
            "model_name": self.model_name,
            "revision": self.revision,
            "taxonomy": self.taxonomy,
            "transport": self.transport,
            "template_sha256": self.template_sha256,
            "params": self.params,
        }


@dataclass(frozen=True)
class Job:
    card: str
    example: str
    target: str
    input: GuardInput
    input_sha256: str
    key: str


@dataclass
class RunSummary:
    out_path: Path
    planned: int = 0
    cached: int = 0  # already recorded, nothing sent
    copied: int = 0  # same input recorded for another example: verdict copied, nothing sent
    classified: int = 0  # jobs sent to the guard in this run
    requests: int = 0  # guard calls (a multi-policy guard makes several per job)
    written: int = 0
    labels: dict[str, int] = field(default_factory=lambda: {"safe": 0, "unsafe": 0, "error": 0})
    transport_errors: int = 0
    interrupted: bool = False
    test_double: bool = False


# --------------------------------------------------------------------------------------------------
# Building a guard from its config
# --------------------------------------------------------------------------------------------------


def recorded_params(settings: Any, cfg: Any) -> dict[str, Any]:
    """The parameters stored with each result and hashed into the cache key (scalars only)."""
    out: dict[str, Any] = dict(settings.params)
    e = cfg.entry
    if e.logprobs:
        out["top_logprobs"] = e.logprobs
    if settings.categories:
        out["categories"] = ",".join(settings.categories)
    if settings.policies:
        out["policies"] = ",".join(settings.policies)
    if settings.content_parts:
        out["content_parts"] = True
    if settings.chat_template_kwargs:
        out["chat_template_kwargs"] = canonical_json(dict(settings.chat_template_kwargs))
    return out


def open_guard(
    cfg: Any,
    kb: Any = None,
    *,
    base_url: str | None = None,
    concurrency: int | None = None,
    retries: int | None = None,
    timeout: float | None = None,
    backoff: float = 0.5,
    transport: Any = None,
) -> tuple[Guard, GuardMeta]:
    """The guard for a config entry, with its transport open. Raises TransportError when it cannot be reached."""
    from . import adapters, transports
    from .config import settings_for

    adapter = adapters.get(cfg.entry.adapter)
    settings = settings_for(cfg)
    if transport is None:
        tcfg = cfg.transport_config(
            base_url=base_url, concurrency=concurrency, retries=retries, timeout=timeout, backoff=backoff
        )
        try:
            transport = transports.open_transport(tcfg, source=adapter)
        except TransportError as exc:
            raise TransportError(f"guard '{cfg.id}': {exc}", status=exc.status) from None
    revision = cfg.entry.revision or getattr(transport, "revision", None)
    meta = guard_meta(cfg, kb, revision=revision)
    return Guard(adapter, transport, settings, model_name=cfg.model_name), meta


def guard_meta(cfg: Any, kb: Any = None, *, revision: str | None = None) -> GuardMeta:
    """What every result of this guard records (and its cache keys hash), without opening a transport.

    The revision comes from the config, else from the installed package (python transport) or the model
    folder (local-transformers)."""
    from . import adapters, transports
    from .config import settings_for

    e = cfg.entry
    adapter = adapters.get(e.adapter)
    settings = settings_for(cfg)
    revision = revision or e.revision
    if revision is None:
        revision = transports.get(e.transport).revision_of(cfg.transport_config(), source=adapter)
    template_id, template_sha = adapter.template(settings)
    taxonomy = adapter.taxonomy
    if kb is not None and e.model in getattr(kb, "models", {}) and kb.models[e.model].guard is not None:
        taxonomy = kb.models[e.model].guard.taxonomy
    return GuardMeta(
        id=cfg.id,
        adapter=adapter.name,
        model=e.model,
        model_name=cfg.model_name,
        revision=revision,
        taxonomy=taxonomy,
        transport=e.transport,
        template_id=template_id,
        template_sha256=template_sha,
        params=recorded_params(settings, cfg),
    )


# --------------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------------


def targets_for(
    example: Any, guard_ids: Iterable[str], which: Targets = "default", has: dict[str, bool] | None = None
) -> list[str]:
    """The targets to check for an example (shared with coverage, so 'not run' means the same thing).
    ``has`` (target -> whether the example has a conversation for it) saves working that out again."""
    if has is None:
        has = {t: example_messages(example, t) is not None for t in ("prompt", "response")}
    if which == "both":
        wanted = ["prompt", "response"]
    elif which in ("prompt", "response"):
        wanted = [which]
    else:
        wanted = ["response"] if has["response"] else ["prompt"]
        ids = set(guard_ids)
        for exp in example.expected:
            if exp.guard in ids and exp.target not in wanted:
                wanted.append(exp.target)
    return [t for t in ("prompt", "response") if t in wanted and has[t]]


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """'i/n' (1 <= i <= n) -> (i, n). Raises ValueError with what to write instead."""
    if not text:
        return None
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard {text!r}: write i/n, e.g. 1/4 for the first of four machines") from None
    if n < 1 or not 1 <= i <= n:
        raise ValueError(f"--shard {text!r}: i must be between 1 and n, e.g. 1/{max(n, 1)} ... {max(n, 1)}/{max(n, 1)}")
    return i, n


def in_shard(key: str, shard: tuple[int, int] | None) -> bool:
    if shard is None:
        return True
    i, n = shard
    return int(key[7:23], 16) % n == i - 1


def plan(
    kb: Any,
    meta: GuardMeta,
    *,
    cards: Iterable[str] | None = None,
    targets: Targets = "default",
    shard: tuple[int, int] | None = None,
) -> list[Job]:
    """The jobs for a guard over the selected cards (all when None), in card and example order."""
    selected = list(cards) if cards is not None else sorted(kb.cards)
    jobs = []
    for cid in selected:
        card = kb.cards[cid]
        for ex in card.examples:
            for target in targets_for(ex, (meta.model, meta.id), targets):
                messages = example_messages(ex, target)
                ihash = input_sha256(messages, target)
                key = cache_key(
                    guard_id=meta.id,
                    model_name=meta.model_name,
                    revision=meta.revision,
                    transport=meta.transport,
                    template_sha256=meta.template_sha256,
                    params=meta.params,
                    target=target,
                    input_hash=ihash,
                )
                if in_shard(key, shard):
                    jobs.append(Job(card.id, ex.id, target, GuardInput.of(messages, target), ihash, key))
    return jobs


# --------------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------------


def is_final(result: Any) -> bool:
    """Whether a stored result settles its cache key (transport failures are retried on the next run)."""
    return not (result.verdict.label == "error" and result.verdict.extra.get("error_kind") == "transport")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_result(job: Job, meta: GuardMeta, outcome: Outcome, *, host: str, runtime: str | None, at: str | None = None):
    from ..models import GuardResult

    v = outcome.verdict
    return GuardResult.model_validate(
        {
            "schema": "riskcards.guard-result/1",
            "key": job.key,
            "example": {
                "card": job.card,
                "example": job.example,
                "target": job.target,
                "input_sha256": job.input_sha256,
            },
            "guard": meta.record(),
            "verdict": {
                "label": v.label,
                "categories": list(v.categories),
                "scores": {k: float(s) for k, s in v.scores.items()},
                "parse_error": v.parse_error,
                "extra": dict(v.extra),
            },
            "raw": v.raw,
            "run": {
                "at": at or _now(),
                "host": host,
                "runtime": runtime,
                "latency_ms": round(outcome.latency_ms, 3),
                "source": "stub" if outcome.test_double else "live",
            },
        }
    )


def copy_result(result: Any, job: Job) -> Any:
    data = result.model_dump(mode="json", by_alias=True)
    data["example"] = {"card": job.card, "example": job.example, "target": job.target, "input_sha256": job.input_sha256}
    return type(result).model_validate(data)


def run(
    guard: Guard,
    meta: GuardMeta,
    jobs: list[Job],
    out_dir: Path,
    *,
    concurrency: int = 8,
    force: bool = False,
    host: str | None = None,
    runtime: str | None = None,
    progress: Callable[[int, Any], None] | None = None,
    stop: threading.Event | None = None,
) -> RunSummary:
    """Classify ``jobs`` and append their results to ``out_dir/<guard-id>.jsonl``. See the module docstring."""
    out_dir = Path(out_dir)
    out_path = store.result_path(out_dir, meta.id)
    summary = RunSummary(out_path=out_path, planned=len(jobs))
    into_checks = store.is_checks_folder(out_dir)
    host = host or socket.gethostname()

    recorded = store.read_file(out_path)
    by_key: dict[str, Any] = {}
    have: set[tuple[str, str, str, str]] = set()
    for r in recorded:
        if is_final(r):
            by_key[r.key] = r
            have.add((r.key, r.example.card, r.example.example, r.example.target))
    pending: dict[str, list[Job]] = {}
    copies: list[tuple[Job, Any]] = []
    for job in jobs:
        if not force and job.key in by_key:
            if (job.key, job.card, job.example, job.target) in have:
                summary.cached += 1
            else:
                copies.append((job, by_key[job.key]))
            continue
        pending.setdefault(job.key, []).append(job)

    probe = getattr(guard.transport, "probe", None)
    if probe is not None and pending:
        info = probe()
        if info.get("test_double"):
            summary.test_double = True
            if into_checks:
                raise RefusedError(
                    f"{info.get('base_url', 'the server')} is a test double; its verdicts never go into {out_dir}. Pass --out with a scratch folder."
                )
        served = info.get("served") or []
        # OpenAI lists model aliases loosely in /models; a moderation answer names its model anyway.
        if served and meta.model_name not in served and meta.transport != "openai-moderation":
            raise TransportError(
                f"the server does not serve '{meta.model_name}'; it serves: {', '.join(served)}. Set model_name in the guard config."
            )
    runtime = runtime or getattr(guard.transport, "runtime", None)
    stop = stop or threading.Event()
    with store.Appender(out_path) as out:

        def write(result: Any) -> None:
            if result.run.source != "live" and into_checks:
                stop.set()
                raise RefusedError(f"a test double answered; its verdicts never go into {out_dir}")
            out.write(result, flush=False)  # flushed once per batch of finished jobs, below
            summary.written += 1
            summary.labels[result.verdict.label] += 1
            if progress:
                progress(1, result)

        for job, result in copies:
            write(copy_result(result, job))
            summary.copied += 1
        out.flush()
        if progress and summary.cached:
            progress(summary.cached, None)

        # Workers take keys from one queue and put outcomes on another; this thread alone writes the file.
        todo: queue.SimpleQueue[str] = queue.SimpleQueue()
        for key in pending:
            todo.put(key)
        done: queue.SimpleQueue[tuple[str, Any] | None] = queue.SimpleQueue()

        def worker() -> None:
            try:
                while not stop.is_set():
                    try:
                        key = todo.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        done.put((key, guard.classify(pending[key][0].input)))
                    except BaseException as exc:  # a bug, not a guard failure: stop and report it
                        done.put((key, exc))
                        return
            finally:
                done.put(None)

        workers = [
            threading.Thread(target=worker, name=f"guard-{i}", daemon=True)
            for i in range(min(max(1, concurrency), len(pending)))
        ]
        for t in workers:
            t.start()

        def record(key: str, outcome: Any) -> None:
            if isinstance(outcome, BaseException):
                stop.set()
                raise outcome
            summary.classified += 1
            summary.requests += outcome.requests
            summary.test_double = summary.test_double or outcome.test_double
            if outcome.verdict.extra.get("error_kind") == "transport":
                summary.transport_errors += 1
            at = _now()
            for job in pending[key]:
                write(make_result(job, meta, outcome, host=host, runtime=runtime, at=at))

        running = len(workers)
        try:
            while running:
                try:
                    item = done.get(timeout=0.5)  # a timeout keeps Ctrl-C responsive
                except queue.Empty:
                    continue
                while True:  # everything finished meanwhile, then one flush
                    if item is None:
                        running -= 1
                    else:
                        record(*item)
                    try:
                        item = done.get_nowait()
                    except queue.Empty:
                        break
                out.flush()
        except KeyboardInterrupt:
            summary.interrupted = True
            stop.set()
            # Record what already finished; requests still in flight are dropped and sent again on resume.
            while True:
                try:
                    item = done.get_nowait()
                except queue.Empty:
                    break
                if item is not None and not isinstance(item[1], BaseException):
                    for job in pending[item[0]]:
                        out.write(make_result(job, meta, item[1], host=host, runtime=runtime), flush=False)
                        summary.written += 1
            out.flush()
        finally:
            stop.set()
    return summary


def run_guard(
    kb: Any,
    cfg: Any,
    out_dir: Path,
    *,
    cards: Iterable[str] | None = None,
    targets: Targets = "default",
    shard: tuple[int, int] | None = None,
    concurrency: int | None = None,
    retries: int | None = None,
    timeout: float | None = None,
    base_url: str | None = None,
    force: bool = False,
    limit: int | None = None,
    backoff: float = 0.5,
    progress: Callable[[int, Any], None] | None = None,
    on_plan: Callable[[list[Job]], None] | None = None,
    transport: Any = None,
) -> RunSummary:
    """Open the guard of ``cfg``, plan its jobs over ``kb`` and run them (the library entry point of `guard run`)."""
    conc = concurrency or cfg.entry.concurrency
    guard, meta = open_guard(
        cfg,
        kb,
        base_url=base_url,
        concurrency=conc,
        retries=retries,
        timeout=timeout,
        backoff=backoff,
        transport=transport,
    )
    try:
        jobs = plan(kb, meta, cards=cards, targets=targets, shard=shard)
        if limit is not None:
            jobs = jobs[:limit]
        if on_plan:
            on_plan(jobs)
        return run(
            guard,
            meta,
            jobs,
            out_dir,
            concurrency=conc,
            force=force,
            host=cfg.entry.host,
            runtime=cfg.entry.runtime,
            progress=progress,
        )
    finally:
        guard.transport.close()
