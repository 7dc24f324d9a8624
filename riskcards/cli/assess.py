"""`riskcards assess new|run|probe|judge|check|report|promote|validate`: thin commands over riskcards.assess."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .core import RootOption

assess_app = typer.Typer(
    help="Assess a deployment: plan it, probe the model card by card, judge, check with guards, report, promote.",
    no_args_is_help=True,
)

IdArg = Annotated[str, typer.Argument(help="The assessment id (assessments/<id>/) or the path of its folder.")]


def register(app: typer.Typer) -> None:
    app.add_typer(assess_app, name="assess")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _root(root: Path | None) -> Path:
    from ..load import find_root

    return Path(root) if root else find_root()


def _kb(root: Path):
    from ..validate import load_kb

    return load_kb(root).kb


def _open(root: Path | None, assessment: str, *, strict: bool = True):
    """(knowledge-base root, validated knowledge base, the assessment folder): what every command on one
    assessment starts from."""
    found = _root(root)
    kb = _kb(found)
    return found, kb, _folder(found, assessment, kb, strict=strict)


def _folder(root: Path, ref: str, kb=None, *, strict: bool = True):
    """The assessment folder, read and checked; problems are printed and stop the command when ``strict``."""
    from ..assess import folder_of
    from ..validate import assessment_records as records

    d = folder_of(root, ref)
    if not (d / "assessment.yaml").is_file():
        known = [p.name for p in records.folders(root)]
        from ..ids import did_you_mean

        _fail(f"no assessment '{ref}' (no {d}/assessment.yaml){did_you_mean(str(ref), known)}")
    # validation (``_kb``) already read and checked every assessment of the knowledge base: reuse it
    same = [x for x in getattr(kb, "assessments", ()) if x.dir.resolve() == d.resolve()]
    f, problems = (same[0], same[0].problems) if same else records.load(root, d, kb)
    if problems and (strict or f.assessment is None):
        for p in problems:
            typer.echo(p.text(), err=True)
        _fail(f"{len(problems)} problem(s) in assessment '{f.id}'; fix them first", 1)
    return f


@assess_app.command("new")
def new(
    scenario: Annotated[str | None, typer.Option("--scenario", "-s", help="The deployment's scenario id.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="The model record id under assessment.")] = None,
    assessment_id: Annotated[
        str | None, typer.Option("--id", help="The assessment id (default: model-scenario).")
    ] = None,
    title: Annotated[str | None, typer.Option(help="A short name of the assessment.")] = None,
    use_case: Annotated[str | None, typer.Option("--use-case", help="What the deployment does, for whom.")] = None,
    assessor: Annotated[list[str] | None, typer.Option("--assessor", "-a", help="Assessor handle, repeatable.")] = None,
    transport: Annotated[
        str, typer.Option(help="openai-chat, openai-completions, local-transformers or python.")
    ] = "openai-chat",
    base_url: Annotated[str | None, typer.Option("--base-url", help="The target's API base URL.")] = None,
    model_name: Annotated[str | None, typer.Option("--model-name", help="The name the server serves.")] = None,
    model_path: Annotated[str | None, typer.Option("--model-path", help="local-transformers: model folder.")] = None,
    entry: Annotated[
        str | None, typer.Option("--entry", help="python: module:function taking the conversation.")
    ] = None,
    api_key_env: Annotated[
        str | None, typer.Option("--api-key-env", help="NAME of the environment variable holding the key.")
    ] = None,
    system_prompt: Annotated[
        str | None, typer.Option("--system-prompt", help="The deployment's system prompt.")
    ] = None,
    min_severity: Annotated[
        str | None, typer.Option("--min-severity", help="Exclude cards below this severity (with the reason).")
    ] = None,
    minutes: Annotated[int | None, typer.Option(help="Budget per card in minutes.")] = 30,
    prompts: Annotated[int | None, typer.Option(help="Budget per card in prompts.")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing record.")] = False,
    root: RootOption = None,
) -> None:
    """Write assessments/<id>/assessment.yaml with the scenario's cards, most severe first. Asks on a terminal."""
    from ..assess.plan import Plan, PlanError, write
    from .query import Exit, open_index

    root = _root(root)
    interactive = sys.stdin.isatty()

    def ask(flag: str, value, label: str, default=None):
        if value:
            return value
        if not interactive:
            if default is not None:
                return default
            _fail(f"{flag} is required when not on a terminal")
        return typer.prompt(label, default=default)

    scenario = ask("--scenario", scenario, "Scenario id (see `riskcards scenarios`)")
    model = ask("--model", model, "Model record id (see `riskcards models`)")
    if interactive:
        use_case = use_case or typer.prompt("Use case (what the deployment does, for whom)", default="TODO")
        if base_url is None and transport.startswith("openai-"):
            base_url = typer.prompt("Target base URL", default="http://localhost:8000/v1")
        if not assessor:
            assessor = [typer.prompt("Your assessor handle", default="assessor-1")]
    try:
        conn = open_index(None, root)
    except Exit as exc:
        raise typer.Exit(exc.code) from None
    plan = Plan(
        scenario=scenario,
        model=model,
        id=assessment_id,
        title=title,
        use_case=None if use_case == "TODO" else use_case,
        assessors=assessor or ["assessor-1"],
        transport=transport,
        base_url=base_url,
        model_name=model_name,
        model_path=model_path,
        entry=entry,
        api_key_env=api_key_env,
        system_prompt=system_prompt,
        min_severity=min_severity,
        minutes=minutes,
        prompts=prompts,
    )
    try:
        path = write(root, conn, plan, force=force)
    except PlanError as exc:
        _fail(str(exc))
    from ..paths import shown

    typer.echo(
        f"wrote {shown(path)}\nnext: edit it, then `riskcards assess run {plan.id}` or "
        f"`riskcards assess probe {plan.id} --card CARD`"
    )


@assess_app.command("validate")
def validate_cmd(
    assessment: Annotated[str | None, typer.Argument(help="One assessment (default: all of them).")] = None,
    root: RootOption = None,
) -> None:
    """Check assessment records, findings and logs; every problem located. Exit 1 on problems."""
    from ..assess import folder_of
    from ..validate import assessment_records as records

    root = _root(root)
    kb = _kb(root)
    if assessment:
        _, problems = records.load(root, folder_of(root, assessment), kb)
    else:
        _, problems = records.load_all(root, kb)
    for p in problems:
        typer.echo(p.text())
    if problems:
        raise typer.Exit(1)
    typer.echo("assessments: no problems")


def _open_target(f, **kw):
    from ..assess.target import TransportError, open_target

    try:
        return open_target(f.assessment, f.dir, **kw)
    except TransportError as exc:
        _fail(str(exc))


@assess_app.command("run")
def run_cmd(
    assessment: IdArg,
    card: Annotated[list[str] | None, typer.Option("--card", "-c", help="Only these cards (repeatable).")] = None,
    shard: Annotated[str | None, typer.Option(help="i/n: this machine's share of the prompts.")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Requests in flight (default: the interface's).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Another server for the same model.")] = None,
    retries: Annotated[int | None, typer.Option(help="Retries per request (default: the interface's).")] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds per request (default: the interface's).")] = None,
    progress: Annotated[bool, typer.Option(help="Draw a progress bar on a terminal.")] = True,
    root: RootOption = None,
) -> None:
    """Send every in-scope card's example prompts to the target and log the answers (a rerun sends only
    what is not logged yet)."""
    from ..assess import batch
    from ..guards.runner import parse_shard
    from ..ids import did_you_mean

    root, kb, f = _open(root, assessment)
    try:
        shard_t = parse_shard(shard)
    except ValueError as exc:
        _fail(str(exc))
    for c in card or []:
        if c not in f.assessment.selection.cards:
            _fail(f"card '{c}' is not in the assessment's selection{did_you_mean(c, f.assessment.selection.cards)}")
    target = _open_target(f, base_url=base_url, concurrency=concurrency, retries=retries, timeout=timeout)
    jobs = batch.plan(kb, f, target, cards=card, shard=shard_t)
    conc = concurrency or f.assessment.scope.interface.concurrency
    bar = None
    if progress and sys.stderr.isatty() and jobs:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        task = bar.add_task(f"assess {f.id}", total=len(jobs))
        bar.start()
    try:
        summary = batch.run(
            f, target, jobs, concurrency=conc, progress=(lambda n: bar.advance(task, n)) if bar else None
        )
    except batch.RefusedError as exc:
        _fail(str(exc))
    except batch.TransportError as exc:
        _fail(str(exc))
    finally:
        if bar:
            bar.stop()
        target.close()
    typer.echo(
        f"{f.id}: {summary.planned} prompts planned, {summary.cached} already logged, {summary.sent} sent "
        f"({summary.answered} answered, {summary.failed} failed after retries)"
        + (" [test double]" if summary.test_double else "")
    )
    if summary.interrupted:
        typer.echo("interrupted: run the same command again to resume", err=True)
        raise typer.Exit(130)
    if summary.failed:
        typer.echo("failed requests are logged with their error; run again to retry them", err=True)
        raise typer.Exit(1)


def _card_in(f, kb, card: str):
    from ..ids import did_you_mean

    if card not in f.assessment.selection.cards:
        _fail(f"card '{card}' is not in the assessment's selection{did_you_mean(card, f.assessment.selection.cards)}")
    return kb.cards[card]


def _assessor(f, assessor: str | None) -> str:
    handles = [a.handle for a in f.assessment.assessors]
    if assessor is None:
        return handles[0]
    if assessor not in handles:
        from ..ids import did_you_mean

        _fail(f"assessor '{assessor}' is not listed in the assessment{did_you_mean(assessor, handles)}")
    return assessor


def _read(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _save_finding(root: Path, f, data: dict) -> None:
    from pydantic import ValidationError

    from ..assess import findings
    from ..paths import shown
    from ..validate import assessment_records as records

    try:
        path = findings.write(f.dir, data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            typer.echo(f"error: {'.'.join(str(x) for x in err['loc'])}: {err['msg']}", err=True)
        _fail("the finding was not written")
    typer.echo(f"wrote {shown(path)}")
    _, problems = records.load(root, f.dir, _kb(root))
    own = [p for p in problems if p.path.endswith(f"findings/{data['card']}.yaml")]
    for p in own:
        typer.echo(p.text(), err=True)
    if own:
        raise typer.Exit(1)


@assess_app.command("probe")
def probe_cmd(
    assessment: IdArg,
    card: Annotated[str, typer.Option("--card", "-c", help="The card to probe.")],
    assessor: Annotated[str | None, typer.Option(help="Your handle (default: the first assessor).")] = None,
    break_every: Annotated[float, typer.Option("--break-every", help="Minutes between break reminders.")] = 20.0,
    judge: Annotated[bool, typer.Option(help="Ask for the judgement after probing (on a terminal).")] = True,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Another server for the same model.")] = None,
    root: RootOption = None,
) -> None:
    """Chat with the target about one card; every prompt and answer is logged. /help lists the commands."""
    from ..assess import findings
    from ..assess.log import LogWriter
    from ..assess.probe import Session
    from ..assess.target import RefusedError, TransportError, refuse_test_double

    root, kb, f = _open(root, assessment)
    c = _card_in(f, kb, card)
    who = _assessor(f, assessor)
    target = _open_target(f, base_url=base_url, retries=2)
    try:
        try:
            refuse_test_double(f.dir, target, target.probe())
        except (RefusedError, TransportError) as exc:
            _fail(str(exc))
        session = Session(f, c, target, who, _read, _write, break_every=break_every)
        with LogWriter(f.dir) as writer:
            result = session.run(writer)
    finally:
        target.close()
    if result.get("started") and judge and sys.stdin.isatty():
        from ..validate import assessment_records as records

        f, _ = records.load(root, f.dir, kb)
        _save_finding(root, f, findings.ask(f, c, who, _read, _write))


@assess_app.command("judge")
def judge_cmd(
    assessment: IdArg,
    card: Annotated[str, typer.Option("--card", "-c", help="The card judged.")],
    elicited: Annotated[str | None, typer.Option(help="yes, partly, no or not-tested.")] = None,
    entry: Annotated[list[str] | None, typer.Option("--entry", "-e", help="Representative log entry id.")] = None,
    plausible: Annotated[
        str | None, typer.Option(help="Actions required plausible here: yes/partly/no/unclear.")
    ] = None,
    rationale: Annotated[str | None, typer.Option(help="How the risk would become a harm here.")] = None,
    severity: Annotated[str | None, typer.Option(help="Severity here: low, medium, high, critical.")] = None,
    mitigation: Annotated[list[str] | None, typer.Option("--mitigation", help="Recommended mitigation.")] = None,
    notes: Annotated[str | None, typer.Option(help="Notes.")] = None,
    publish: Annotated[str | None, typer.Option(help="Publish the entries: full or withheld.")] = None,
    assessor: Annotated[str | None, typer.Option(help="Your handle (default: the first assessor).")] = None,
    root: RootOption = None,
) -> None:
    """Write the judgement of one card (findings/<card>.yaml): asks on a terminal, takes flags off one."""
    from ..assess import findings

    root, kb, f = _open(root, assessment, strict=False)
    c = _card_in(f, kb, card)
    who = _assessor(f, assessor)
    if elicited is None:
        if not sys.stdin.isatty():
            _fail("--elicited is required when not on a terminal")
        _save_finding(root, f, findings.ask(f, c, who, _read, _write))
        return
    d = findings.defaults(f, c.id)
    data = {
        "card": c.id,
        "elicited": elicited,
        "attempts": d["attempts"],
        "minutes": d["minutes"],
        "representative": list(entry or d["marked"]),
        "actions_plausible": plausible,
        "actions_rationale": rationale,
        "harm_types": [h.model_dump(exclude_none=True) for h in c.harm_types],
        "severity": severity,
        "mitigations": list(mitigation or []),
        "notes": notes,
        "assessors": [who],
    }
    if publish in ("full", "withheld"):
        data["publishable"] = [
            {"entry": e, "sensitivity": publish}
            | ({"withheld_reason": "The output is harmful in itself."} if publish == "withheld" else {})
            for e in data["representative"]
        ]
    _save_finding(root, f, {k: v for k, v in data.items() if v is not None})


@assess_app.command("check")
def check_cmd(
    assessment: IdArg,
    guard: Annotated[str, typer.Option("--guard", "-g", help="A guard id from guards.yaml.")],
    config: Annotated[Path | None, typer.Option("--config", help="Guard config (default: guards.yaml).")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Requests in flight (default: the guard's).")] = None,
    root: RootOption = None,
) -> None:
    """Run a guard over the logged answers (assessments/<id>/checks/<guard>.jsonl); reported beside the judgement."""
    from ..assess import checks
    from ..assess.target import RefusedError, TransportError
    from ..guards.config import ConfigError, config_path, load_config
    from ..ids import did_you_mean
    from ..paths import shown

    root, kb, f = _open(root, assessment)
    try:
        configs = load_config(config_path(root, config), root)
    except ConfigError as exc:
        for p in exc.problems:
            typer.echo(p.text(), err=True)
        raise typer.Exit(2) from None
    if guard not in configs:
        _fail(f"unknown guard '{guard}'{did_you_mean(guard, configs)}; configured: {', '.join(configs)}")
    try:
        s = checks.run(kb, f, configs[guard], concurrency=concurrency)
    except (RefusedError, TransportError) as exc:
        _fail(str(exc))
    lab = s.labels
    typer.echo(
        f"{f.id} x {guard}: {s.planned} answers, {s.cached} already checked, {s.classified} sent; "
        f"{lab['unsafe']} unsafe, {lab['safe']} safe, {lab['error']} errors -> {shown(s.out_path)}"
    )


@assess_app.command("report")
def report_cmd(
    assessment: IdArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, html or json.")] = "md",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file (default: stdout).")] = None,
    root: RootOption = None,
) -> None:
    """The assessment report: scope, selection, assessors, per card, automated checks, conclusions, handling."""
    from ..assess import report

    if fmt not in ("md", "html", "json"):
        _fail(f"--format {fmt!r}: write md, html or json")
    root, kb, f = _open(root, assessment)
    text = report.render(report.data(kb, f), fmt)
    if out is None:
        sys.stdout.write(text)
    else:
        from ..paths import write_atomic

        write_atomic(out, text)
        typer.echo(f"wrote {out}", err=True)


@assess_app.command("promote")
def promote_cmd(
    assessment: IdArg,
    entry: Annotated[str, typer.Argument(help="The log entry id of the answer.")],
    card: Annotated[str, typer.Option("--card", "-c", help="The card whose log holds the entry.")],
    sensitivity: Annotated[
        str,
        typer.Option(
            help="full, defanged (with --text) or withheld (with --reason); by default unreviewed: the text stays "
            "unpublished until a reviewer sets one of these in the card file."
        ),
    ] = "unreviewed",
    text: Annotated[str | None, typer.Option(help="Defanged: the output with '[redacted: ...]' marks.")] = None,
    reason: Annotated[str | None, typer.Option(help="Withheld: why the text is not published.")] = None,
    example_id: Annotated[str | None, typer.Option("--example-id", help="Default: assessed-<entry>.")] = None,
    language: Annotated[str, typer.Option(help="Language of the text, a BCP 47 tag.")] = "en",
    root: RootOption = None,
) -> None:
    """Turn a logged answer into an observed example on the card (version bump and changelog line)."""
    from ..assess.promote import PromoteError, promote
    from ..paths import shown

    root, kb, f = _open(root, assessment)
    try:
        path, eid = promote(
            root,
            kb,
            f,
            entry,
            card,
            sensitivity=sensitivity,
            text=text,
            reason=reason,
            example_id=example_id,
            language=language,
        )
    except PromoteError as exc:
        _fail(str(exc))
    typer.echo(
        f"added observed example '{eid}' to {shown(path)}; `riskcards query --model "
        f"{f.assessment.scope.model}` finds it"
    )
    if sensitivity == "unreviewed":
        typer.echo(
            "its sensitivity is 'unreviewed': the text stays off the site and out of exports until a reviewer "
            "sets full, defanged or withheld in the card file"
        )


@assess_app.command("import")
def import_cmd(
    assessment: IdArg,
    file: Annotated[
        Path,
        typer.Argument(help="The results file: an inspect eval log, promptfoo's results JSON or a garak report JSONL."),
    ],
    tool: Annotated[str, typer.Option("--from", help="The tool that wrote it: inspect, promptfoo or garak.")],
    card: Annotated[str | None, typer.Option("--card", help="File every result under this card.")] = None,
    assessor: Annotated[str, typer.Option(help="The handle written in the imported entries.")] = "import",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and count, write nothing.")] = False,
    root: RootOption = None,
) -> None:
    """Another tool's results into the assessment's logs (mode: imported), with tool, version, model and date."""
    from ..assess import imported
    from ..assess.target import RefusedError
    from ..importers import results
    from ..paths import shown
    from ..validate import assessment_records as records

    if tool not in results.TOOLS:
        _fail(f"--from must be one of {', '.join(results.TOOLS)}, not '{tool}'")
    root, kb, f = _open(root, assessment)
    try:
        run = results.read(tool, file, shown(file))
    except results.ResultsError as exc:
        for p in exc.problems:
            typer.echo(p.text(), err=True)
        _fail(f"{len(exc.problems)} problem(s): nothing imported from {shown(file)}", 1)
    try:
        s = imported.import_run(f, kb, run, Path(file).name, card=card, assessor=assessor, dry_run=dry_run)
    except (RefusedError, ValueError) as exc:
        _fail(str(exc))
    verb = "would import" if dry_run else "imported"
    typer.echo(
        f"{f.id}: {verb} {s.written} entries from {s.tool} {s.tool_version} (model {s.model_name}"
        f"{', a test double' if s.test_double else ''}) into {len(s.imported)} card log(s); "
        f"{s.already} already logged"
    )
    if s.out_of_scope:
        typer.echo(
            f"  left out, not in the selection: {sum(s.out_of_scope.values())} result(s) for "
            + ", ".join(f"{c} ({n})" for c, n in sorted(s.out_of_scope.items())),
            err=True,
        )
    if s.no_card:
        typer.echo(f"  left out, no card found: {s.no_card} result(s); name one with --card", err=True)
    if not dry_run and s.written:
        _, problems = records.load(root, f.dir, kb)
        for p in problems:
            typer.echo(p.text(), err=True)
        if problems:
            raise typer.Exit(1)
