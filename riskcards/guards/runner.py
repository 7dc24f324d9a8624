"""The guard runner: examples -> jobs -> guard (formatter -> transport -> parser) -> checks/<guard-id>.jsonl.

* **Selection.** Every example of the selected cards (default: all), for the default targets: the response
  when the example has one, else the prompt, plus every target that an expectation for this guard names.
  ``targets`` can ask for 'prompt', 'response' or 'both' instead. Withheld examples have no text and are
  never sent, nor is a text holding a ``[redacted: ...]`` marker where the guard judges it (the prompt for
  target 'prompt', the response for 'response'): such pairs are *not runnable* (coverage says so).
* **Sharding.** ``shard=(i, n)`` keeps the jobs whose cache key falls in bucket i of n, so n machines can
  split one run (each writes its own file; merge them with ``riskcards guard import``).
* **Cache and resume.** A job whose cache key is already recorded in the output file is not sent; if the
  key is recorded for another example with the same input, the verdict is copied without a request. Only
  transient failures (timeouts, dropped connections, 429/5xx after retries) are sent again on the next run;
  other errors are final and recorded with their kind (a permanent 4xx such as 400 for an over-long prompt,
  a 200 without ``choices`` or ``results``, an unusable output); ``retry_errors`` sends them again. Results
  are appended one line at a time and flushed, so an interrupted run resumes where it stopped.
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import store
from .hashing import cache_key, canonical_json, example_messages, input_sha256, runnable
from .protocol import Guard, GuardInput, Outcome, Target, TransportError

if TYPE_CHECKING:
    from ..kb import KnowledgeBase
    from ..models import Example, GuardResult
    from .adapters.base import Settings
    from .config import GuardConfig
    from .transports.base import TransportBase

Targets = Literal["default", "prompt", "response", "both"]
Scalar = str | int | float | bool | None
Progress = Callable[[int, "GuardResult | None"], None]  # (jobs done, the result written or None for cached ones)


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
    params: dict[str, Scalar]

    def record(self) -> dict[str, object]:
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
    target: Target
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


def recorded_params(settings: Settings, cfg: GuardConfig) -> dict[str, Scalar]:
    """The parameters stored with each result and hashed into the cache key (scalars only)."""
    out: dict[str, Scalar] = dict(settings.params)
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
    cfg: GuardConfig,
    kb: KnowledgeBase | None = None,
    *,
    base_url: str | None = None,
    concurrency: int | None = None,
    retries: int | None = None,
    timeout: float | None = None,
    backoff: float = 0.5,
    transport: TransportBase | None = None,
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
        transport = transports.open_transport(tcfg, source=adapter)
    revision = cfg.entry.revision or getattr(transport, "revision", None)
    meta = guard_meta(cfg, kb, revision=revision)
    return Guard(adapter, transport, settings, model_name=cfg.model_name), meta


def guard_meta(cfg: GuardConfig, kb: KnowledgeBase | None = None, *, revision: str | None = None) -> GuardMeta:
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
    info = kb.models[e.model].guard if kb is not None and e.model in getattr(kb, "models", {}) else None
    if info is not None:
        taxonomy = info.taxonomy
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
    example: Example, guard_ids: Iterable[str], which: Targets = "default", has: dict[str, bool] | None = None
) -> list[Target]:
    """The targets to check for an example (shared with coverage, so 'not run' means the same thing).
    ``has`` (target -> whether the example has a conversation for it) saves working that out again."""
    if has is None:
        has = {t: example_messages(example, t) is not None for t in ("prompt", "response")}
    wanted: list[Target]
    if which == "both":
        wanted = ["prompt", "response"]
    elif which == "prompt" or which == "response":
        wanted = [which]
    else:
        wanted = ["response"] if has["response"] else ["prompt"]
        ids = set(guard_ids)
        for exp in example.expected:
            if exp.guard in ids and exp.target not in wanted:
                wanted.append(exp.target)
    order: tuple[Target, Target] = ("prompt", "response")
    return [t for t in order if t in wanted and has[t]]


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
    kb: KnowledgeBase,
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
                if not runnable(ex, target):  # redacted text: the guard would judge the marker, not the risk
                    continue
                messages = example_messages(ex, target)
                assert messages is not None  # runnable
                job = make_job(meta, card.id, ex.id, target, messages)
                if in_shard(job.key, shard):
                    jobs.append(job)
    return jobs


def make_job(meta: GuardMeta, card: str, example: str, target: Target, messages: list[dict[str, str]]) -> Job:
    """One request for the guard: the text it judges, its input hash and the cache key of everything that
    decides the verdict (the same key for a card's example and for an assessment's logged answer)."""
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
    return Job(card, example, target, GuardInput.of(messages, target), ihash, key)


# --------------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------------

TRANSIENT = "transport"
"""The ``error_kind`` of a failure worth sending again on the next run (timeout, dropped connection, 429 or
5xx after the transport's own retries). Every other error verdict is final: a permanent 4xx (``rejected``,
with its ``status``), a 200 that is not an answer (``response``: no ``choices``, no ``results``), an input
the guard cannot take (``format``) or an output the parser cannot read (no kind). ``retry_errors`` sends
those again too."""


def is_final(result: GuardResult, *, retry_errors: bool = False) -> bool:
    """Whether a stored result settles its cache key: every verdict but a transient failure (and, with
    ``retry_errors``, but any error)."""
    if result.verdict.label != "error":
        return True
    return not retry_errors and result.verdict.extra.get("error_kind") != TRANSIENT


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_result(
    job: Job, meta: GuardMeta, outcome: Outcome, *, host: str, runtime: str | None, at: str | None = None
) -> GuardResult:
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
                **({"tier": v.tier} if v.tier else {}),
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


def copy_result(result: GuardResult, job: Job) -> GuardResult:
    data = result.model_dump(mode="json", by_alias=True)
    data["example"] = {"card": job.card, "example": job.example, "target": job.target, "input_sha256": job.input_sha256}
    return type(result).model_validate(data)


@dataclass
class _Work:
    """What a run has to do after reading the output file: keys to send, verdicts to copy, jobs already done."""

    pending: dict[str, list[Job]] = field(default_factory=dict)  # cache key -> jobs with that input
    copies: list[tuple[Job, GuardResult]] = field(default_factory=list)
    cached: int = 0


def _sort_jobs(jobs: list[Job], recorded: list[GuardResult], *, force: bool, retry_errors: bool) -> _Work:
    """Step 1: which jobs are already recorded, which can copy a verdict recorded for the same input, and
    which must be sent (grouped by cache key, so one input is classified once)."""
    by_key: dict[str, GuardResult] = {}
    have: set[tuple[str, str, str, str]] = set()
    for r in recorded:
        if is_final(r, retry_errors=retry_errors):
            by_key[r.key] = r
            have.add((r.key, r.example.card, r.example.example, r.example.target))
    work = _Work()
    for job in jobs:
        if not force and job.key in by_key:
            if (job.key, job.card, job.example, job.target) in have:
                work.cached += 1
            else:
                work.copies.append((job, by_key[job.key]))
            continue
        work.pending.setdefault(job.key, []).append(job)
    return work


def _check_server(guard: Guard, meta: GuardMeta, out_dir: Path, *, into_checks: bool) -> bool:
    """Step 2: reach the guard once before sending anything. Refuses a test double when writing into checks/,
    and a server that does not serve the configured model. Returns whether it is a test double."""
    info = guard.transport.probe()
    test_double = bool(info.get("test_double"))
    if test_double and into_checks:
        where = info.get("base_url", "the server")
        raise RefusedError(
            f"{where} is a test double; its verdicts never go into {out_dir}. Pass --out with a scratch folder."
        )
    served = info.get("served") or []
    # OpenAI lists model aliases loosely in /models; a moderation answer names its model anyway.
    if served and meta.model_name not in served and meta.transport != "openai-moderation":
        raise TransportError(
            f"the server does not serve '{meta.model_name}'; it serves: "
            f"{', '.join(served)}. Set model_name in the guard config."
        )
    return test_double


Finished = tuple[str, Any]  # (key, what the call returned, or the exception it raised: a bug)


def start_workers(
    call: Callable[[str], Any], keys: Iterable[str], concurrency: int, stop: threading.Event, name: str = "worker"
) -> tuple[queue.SimpleQueue[Finished | None], int]:
    """Worker threads take keys from one queue and put ``(key, call(key))`` on another (None when a worker
    ends). An exception from ``call`` is a bug, not a failed request: it is put as the result and ends that
    worker. Shared by the guard runner and the assessment's batch run. Returns the queue and the number of
    workers."""
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    n_keys = 0
    for key in keys:
        todo.put(key)
        n_keys += 1
    done: queue.SimpleQueue[Finished | None] = queue.SimpleQueue()

    def worker() -> None:
        try:
            while not stop.is_set():
                try:
                    key = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    done.put((key, call(key)))
                except BaseException as exc:  # a bug: stop and report it
                    done.put((key, exc))
                    return
        finally:
            done.put(None)

    n = min(max(1, concurrency), n_keys)
    for i in range(n):
        threading.Thread(target=worker, name=f"{name}-{i}", daemon=True).start()
    return done, n


def finished(done: queue.SimpleQueue[Finished | None], running: int) -> Iterator[list[Finished]]:
    """Batches of finished results (everything that finished meanwhile), until every worker ended. Waits in
    short slices so that Ctrl-C stays responsive."""
    while running:
        try:
            item = done.get(timeout=0.5)
        except queue.Empty:
            continue
        batch: list[Finished] = []
        while True:
            if item is None:
                running -= 1
            else:
                batch.append(item)
            try:
                item = done.get_nowait()
            except queue.Empty:
                break
        yield batch


def drain(done: queue.SimpleQueue[Finished | None]) -> list[Finished]:
    """What finished before an interruption, bugs left out (requests still in flight are dropped and sent
    again on resume)."""
    out: list[Finished] = []
    while True:
        try:
            item = done.get_nowait()
        except queue.Empty:
            return out
        if item is not None and not isinstance(item[1], BaseException):
            out.append(item)


class _Writer:
    """Step 5: appends results to the output file and keeps the summary; refuses test-double verdicts in checks/."""

    def __init__(
        self,
        out: store.Appender,
        summary: RunSummary,
        *,
        into_checks: bool,
        out_dir: Path,
        stop: threading.Event,
        progress: Progress | None,
    ) -> None:
        self.out, self.summary, self.into_checks, self.out_dir = out, summary, into_checks, out_dir
        self.stop, self.progress = stop, progress

    def write(self, result: GuardResult) -> None:
        if result.run.source != "live" and self.into_checks:
            self.stop.set()
            raise RefusedError(f"a test double answered; its verdicts never go into {self.out_dir}")
        self.out.write(result, flush=False)  # flushed once per batch of finished jobs
        self.summary.written += 1
        self.summary.labels[result.verdict.label] += 1
        if self.progress:
            self.progress(1, result)

    def record(self, jobs: list[Job], meta: GuardMeta, outcome: Outcome, *, host: str, runtime: str | None) -> None:
        s = self.summary
        s.classified += 1
        s.requests += outcome.requests
        s.test_double = s.test_double or outcome.test_double
        if outcome.verdict.extra.get("error_kind") == TRANSIENT:
            s.transport_errors += 1
        at = _now()
        for job in jobs:
            self.write(make_result(job, meta, outcome, host=host, runtime=runtime, at=at))


def run(
    guard: Guard,
    meta: GuardMeta,
    jobs: list[Job],
    out_dir: Path,
    *,
    concurrency: int = 8,
    force: bool = False,
    retry_errors: bool = False,
    host: str | None = None,
    runtime: str | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> RunSummary:
    """Classify ``jobs`` and append their results to ``out_dir/<guard-id>.jsonl``. See the module docstring."""
    out_dir = Path(out_dir)
    out_path = store.result_path(out_dir, meta.id)
    summary = RunSummary(out_path=out_path, planned=len(jobs))
    into_checks = store.is_checks_folder(out_dir)
    host = host or socket.gethostname()
    work = _sort_jobs(jobs, store.read_file(out_path), force=force, retry_errors=retry_errors)
    summary.cached = work.cached
    if work.pending:
        summary.test_double = _check_server(guard, meta, out_dir, into_checks=into_checks)
    runtime = runtime or guard.transport.runtime
    stop = stop or threading.Event()
    with store.Appender(out_path, secrets=guard.transport.secrets()) as out:
        writer = _Writer(out, summary, into_checks=into_checks, out_dir=out_dir, stop=stop, progress=progress)
        for job, result in work.copies:
            writer.write(copy_result(result, job))
            summary.copied += 1
        out.flush()
        if progress and summary.cached:
            progress(summary.cached, None)
        pending = work.pending
        done, running = start_workers(
            lambda key: guard.classify(pending[key][0].input), pending, concurrency, stop, "guard"
        )
        try:
            for batch in finished(done, running):
                for key, outcome in batch:
                    if isinstance(outcome, BaseException):
                        stop.set()
                        raise outcome
                    writer.record(work.pending[key], meta, outcome, host=host, runtime=runtime)
                out.flush()
        except KeyboardInterrupt:
            summary.interrupted = True
            stop.set()
            for key, outcome in drain(done):
                for job in work.pending[key]:
                    out.write(make_result(job, meta, outcome, host=host, runtime=runtime), flush=False)
                    summary.written += 1
            out.flush()
        finally:
            stop.set()
    return summary


def run_guard(
    kb: KnowledgeBase,
    cfg: GuardConfig,
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
    retry_errors: bool = False,
    limit: int | None = None,
    backoff: float = 0.5,
    progress: Progress | None = None,
    on_plan: Callable[[list[Job]], None] | None = None,
    transport: TransportBase | None = None,
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
            retry_errors=retry_errors,
            host=cfg.entry.host,
            runtime=cfg.entry.runtime,
            progress=progress,
        )
    finally:
        guard.transport.close()
