"""`riskcards guard run|import|list` and `riskcards coverage`: thin commands over riskcards.guards (coverage's
body is ``riskcards.cli.query.do_coverage``, which the fast path serves without typer)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .core import RootOption

guard_app = typer.Typer(
    help="Run guard models over the cards' examples, import verdicts recorded elsewhere, list configured guards.",
    no_args_is_help=True,
)


class Fmt(StrEnum):  # riskcards.terms.COVERAGE_FORMATS, spelled out for the type checker (a test ties them)
    text = "text"
    json = "json"


class TargetChoice(StrEnum):
    default = "default"
    prompt = "prompt"
    response = "response"
    both = "both"


ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Guard config file (default: guards.yaml in the root).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(guard_app, name="guard")
    app.command("coverage")(coverage)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _kb(root: Path):
    from ..validate import load_kb

    res = load_kb(root)
    return res.kb, res.problems


def _configs(root: Path, config: Path | None):
    from ..guards.config import ConfigError, config_path, load_config

    try:
        return load_config(config_path(root, config), root)
    except ConfigError as exc:
        for p in exc.problems:
            typer.echo(p.text(), err=True)
        raise typer.Exit(2) from None


def _select_cards(kb, cards: list[str] | None, cards_from: Path | None) -> list[str] | None:
    wanted: list[str] = list(cards or [])
    if cards_from is not None:
        text = sys.stdin.read() if str(cards_from) == "-" else cards_from.read_text(encoding="utf-8")
        wanted += [line.split()[0] for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not wanted and cards is None and cards_from is None:
        return None
    out = []
    for cid in wanted:
        card = kb.resolve_card(cid)
        if card is None:
            from ..ids import did_you_mean

            _fail(f"unknown card '{cid}'{did_you_mean(cid, kb.cards)}")
        if card.id not in out:
            out.append(card.id)
    return out


@guard_app.command("run")
def run(
    guard: Annotated[str, typer.Argument(help="Guard id from the guard config (see `riskcards guard list`).")],
    card: Annotated[list[str] | None, typer.Option("--card", "-c", help="Only this card (repeatable).")] = None,
    cards_from: Annotated[
        Path | None,
        typer.Option("--cards-from", help="Card ids, one per line, from a file or '-' (e.g. piped from a query)."),
    ] = None,
    target: Annotated[
        TargetChoice,
        typer.Option(
            "--target", help="default: the response (or the prompt when there is none) plus expected targets."
        ),
    ] = TargetChoice.default,
    shard: Annotated[
        str | None, typer.Option("--shard", help="i/n: run only the i-th of n shards (split a run across machines).")
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", "-j", min=1, max=512, help="Requests in flight (default: from the config)."),
    ] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", min=0.1, help="Seconds to wait for one answer.")] = None,
    retries: Annotated[
        int | None, typer.Option("--retries", min=0, max=20, help="Retries on timeouts, 429 and 5xx.")
    ] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Override the endpoint of the config.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for <guard-id>.jsonl (default: checks/ in the root).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Send every job again, even when a result is recorded.")
    ] = False,
    retry_errors: Annotated[
        bool,
        typer.Option(
            "--retry-errors",
            help="Send again the jobs whose recorded verdict is a final error (a permanent 4xx, an answer without "
            "choices or results, an unparseable output). Transient failures are always sent again.",
        ),
    ] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="Run at most this many jobs.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show how many jobs would be sent; send nothing.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    config: ConfigOption = None,
    root: RootOption = None,
) -> None:
    """Run a guard over the examples; results are appended to checks/<guard>.jsonl and reused on reruns."""
    from ..guards import runner, store
    from ..guards.protocol import TransportError
    from ..load import find_root

    root = root or find_root()
    configs = _configs(root, config)
    if guard not in configs:
        from ..ids import did_you_mean

        _fail(
            f"no guard '{guard}' in the guard config{did_you_mean(guard, configs)}; "
            f"configured: {', '.join(configs) or 'none'}"
        )
    cfg = configs[guard]
    try:
        shard_t = runner.parse_shard(shard)
    except ValueError as exc:
        _fail(str(exc))
    kb, problems = _kb(root)
    if problems:
        typer.echo(
            (
                f"warning: the knowledge base has {len(problems)} problem(s); "
                "invalid records are skipped (run `riskcards validate`)"
            ),
            err=True,
        )
    cards = _select_cards(kb, card, cards_from)
    out_dir = out or root / "checks"
    if cfg.entry.model not in kb.models:
        from ..ids import did_you_mean

        _fail(
            f"guard '{guard}' names model '{cfg.entry.model}', which "
            f"has no record{did_you_mean(cfg.entry.model, kb.models)}; "
            f"add models/{cfg.entry.model}.yaml (kind guard-model or classifier) or fix 'model' in the guard config"
        )

    if dry_run:
        meta = runner.guard_meta(cfg, kb)
        jobs = runner.plan(kb, meta, cards=cards, targets=target.value, shard=shard_t)
        recorded = store.read_file(store.result_path(out_dir, cfg.id))
        done = {r.key for r in recorded if runner.is_final(r, retry_errors=retry_errors)}
        todo = [j for j in jobs if force or j.key not in done]
        typer.echo(f"{guard}: {len(jobs)} jobs planned, {len(jobs) - len(todo)} already recorded, {len(todo)} to send")
        raise typer.Exit(0)

    bar = None
    task = None
    state = {"unsafe": 0, "safe": 0, "error": 0}

    def on_plan(jobs):
        nonlocal bar, task
        if progress and jobs:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("unsafe {task.fields[unsafe]}  safe {task.fields[safe]}  error {task.fields[error]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=False,
            )
            bar.start()
            task = bar.add_task(guard, total=len(jobs), unsafe=0, safe=0, error=0)

    def on_progress(n, result):
        if result is not None:
            state[result.verdict.label] += 1
        if bar is not None:
            bar.update(task, advance=n, **state)

    try:
        summary = runner.run_guard(
            kb,
            cfg,
            out_dir,
            cards=cards,
            targets=target.value,
            shard=shard_t,
            concurrency=concurrency,
            retries=retries,
            timeout=timeout,
            base_url=base_url,
            force=force,
            retry_errors=retry_errors,
            limit=limit,
            progress=on_progress,
            on_plan=on_plan,
        )
    except runner.RefusedError as exc:
        _fail(str(exc))
    except TransportError as exc:
        _fail(f"guard '{guard}': {exc}")
    except KeyboardInterrupt:
        typer.echo("interrupted before any verdict was written", err=True)
        raise typer.Exit(130) from None
    finally:
        if bar is not None:
            bar.stop()
    labels = summary.labels
    typer.echo(
        f"{guard}: {summary.planned} jobs; {summary.cached} already "
        f"recorded, {summary.copied} copied from identical inputs, "
        f"{summary.classified} classified ({summary.requests} guard calls); "
        f"unsafe {labels['unsafe']}, safe {labels['safe']}, error {labels['error']} -> {summary.out_path}"
    )
    if summary.interrupted:
        typer.echo("interrupted: finished verdicts are saved; run the same command again to resume", err=True)
        raise typer.Exit(130)
    if summary.transport_errors:
        typer.echo(
            f"{summary.transport_errors} job(s) failed to reach the guard; they are retried on the next run", err=True
        )
        raise typer.Exit(1)


@guard_app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="JSONL files of GuardResult records (e.g. from a GPU machine).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder to add them to (default: checks/ in the root).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check only; write nothing.")] = False,
    fmt: Annotated[Fmt, typer.Option("--format", "-f")] = Fmt.text,
    root: RootOption = None,
) -> None:
    """Import verdicts recorded elsewhere; each must match a current example by its input hash."""
    from ..guards.imports import import_files
    from ..load import find_root

    root = root or find_root()
    kb, _ = _kb(root)
    summary = import_files(kb, files, out or root / "checks", dry_run=dry_run)
    if fmt is Fmt.json:
        typer.echo(
            json.dumps(
                {
                    "read": summary.read,
                    "imported": summary.imported,
                    "duplicates": summary.duplicates,
                    "by_guard": summary.by_guard,
                    "problems": [p.__dict__ for p in summary.problems],
                },
                indent=2,
            )
        )
    else:
        for p in summary.problems:
            typer.echo(p.text())
        verb = "would import" if dry_run else "imported"
        typer.echo(
            f"{summary.read} records read: {verb} {summary.imported}, "
            f"{summary.duplicates} already recorded, {len(summary.problems)} problem(s)"
        )
    raise typer.Exit(1 if summary.problems else 0)


@guard_app.command("prune")
def prune(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be removed; change nothing.")] = False,
    root: RootOption = None,
) -> None:
    """Remove stale verdicts from checks/*.jsonl: for removed or changed examples, from test doubles, unreadable
    lines (the ones `riskcards validate` reports); lines holding a secret-shaped string are rewritten scrubbed."""
    from ..guards.checks import prune as prune_checks
    from ..load import find_root

    root = root or find_root()
    kb, _ = _kb(root)
    s = prune_checks(root, kb, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    typer.echo(
        f"{verb} {s.removed} stale verdict(s), scrubbed {s.scrubbed}, kept {s.kept} in {s.files} changed file(s)"
    )


@guard_app.command("list")
def list_(
    fmt: Annotated[Fmt, typer.Option("--format", "-f")] = Fmt.text,
    adapters_: Annotated[
        bool, typer.Option("--adapters", help="List the adapters instead of the configured guards.")
    ] = False,
    transports_: Annotated[
        bool, typer.Option("--transports", help="List the transports instead of the configured guards.")
    ] = False,
    config: ConfigOption = None,
    root: RootOption = None,
) -> None:
    """The configured guards (endpoint, model, key variable set or not, verdicts recorded), the adapters or
    the transports."""
    import os

    from ..guards import adapters, store, transports
    from ..load import find_root

    if transports_:
        trows = [
            {
                "transport": n,
                "modes": list((t := transports.get(n)).modes),
                "requires": list(t.requires),
                "description": t.description,
            }
            for n in transports.names()
        ]
        _print_registry(trows, fmt, "{transport:<20} {modes:<18} {description}")
        return
    if adapters_:
        rows = [
            {
                "adapter": n,
                "taxonomy": (a := adapters.get(n)).taxonomy,
                "modes": list(a.modes),
                "description": a.description,
            }
            for n in adapters.names()
        ]
        _print_registry(rows, fmt, "{adapter:<18} {taxonomy:<28} {modes:<18} {description}")
        return
    root = root or find_root()
    configs = _configs(root, config)
    listed: list[dict[str, object]] = []
    for gid, cfg in configs.items():
        e = cfg.entry
        recorded = len(store.read_file(store.result_path(root / "checks", gid)))
        key = (
            "-" if not e.api_key_env else f"${e.api_key_env} ({'set' if os.environ.get(e.api_key_env) else 'NOT SET'})"
        )
        listed.append(
            {
                "id": gid,
                "adapter": e.adapter,
                "model": e.model,
                "model_name": cfg.model_name,
                "transport": e.transport,
                "endpoint": _endpoint(cfg),
                "api_key": key,
                "recorded": recorded,
            }
        )
    if fmt is Fmt.json:
        typer.echo(json.dumps(listed, indent=2))
        return
    from .query import _table  # a drawn table on a terminal, plain columns in a pipe or file

    _table(
        ["guard", "adapter", "model", "transport", "endpoint", "api key", "recorded"],
        [
            [r["id"], r["adapter"], r["model_name"], r["transport"], r["endpoint"], r["api_key"], r["recorded"]]
            for r in listed
        ],
    )


def coverage(
    guard: Annotated[str | None, typer.Option("--guard", "-g", help="Only this guard (guard id or model id).")] = None,
    card: Annotated[list[str] | None, typer.Option("--card", "-c", help="Only this card (repeatable).")] = None,
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="text (tables) or json.")] = Fmt.text,
    config: ConfigOption = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="Read this index as it is (default: the root's, rebuilt when stale).")
    ] = None,
    root: RootOption = None,
) -> None:
    """Per card and guard: examples flagged, missed, outside the guard's policy, errored, not run, and
    expected-vs-observed disagreements. Read from the index (table guard_coverage), as the site reads it."""
    from .query import Exit, do_coverage

    try:  # also served without typer (riskcards.cli.query.fast_main)
        do_coverage(guard=guard, card=card, fmt=fmt.value, config=config, db=db, root=root)
    except Exit as exc:
        raise typer.Exit(exc.code) from None


def _print_registry(rows: list[dict], fmt, line: str) -> None:
    """A registry listing (adapters, transports): JSON, or one line per entry (modes joined with '/')."""
    if fmt is Fmt.json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        typer.echo(line.format(**{**r, "modes": "/".join(r["modes"])}))


def _endpoint(cfg) -> str:
    from ..guards import transports

    try:
        return transports.get(cfg.entry.transport).endpoint(cfg.transport_config())
    except KeyError:
        return "?"
