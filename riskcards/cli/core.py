"""`riskcards validate`, `riskcards new`, `riskcards schema`."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..terms import REPORT_FORMATS

Format = StrEnum("Format", {f: f for f in REPORT_FORMATS})


RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root", help="Knowledge-base root (holds cards/ and taxonomies/). Default: found from the current folder."
    ),
]


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("new")(new)
    app.command("schema")(schema)


def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files to report on (default: the whole knowledge base).")
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="text, json, or github (workflow annotations).")
    ] = Format.text,
    root: RootOption = None,
    changed: Annotated[
        bool, typer.Option("--changed", help="Check only records changed against --base, plus what they can break.")
    ] = False,
    base: Annotated[
        str | None, typer.Option("--base", help="Git ref to compare with (default: origin/main or main).")
    ] = None,
) -> None:
    """Check every record: schema, then references across records. Exit 0 clean, 1 problems, 2 usage error."""
    from ..load import find_root
    from ..problems import render
    from ..validate import validate as run

    root = root or find_root()
    if not (root / "cards").is_dir() and not paths:
        typer.echo(f"error: {root} is not a knowledge base (no cards/ folder); use --root", err=True)
        raise typer.Exit(2)
    if changed or base:
        from ..change_rules import GitError, validate_changed

        try:
            result = validate_changed(root, base)
        except GitError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        if paths:  # only these files: their own problems, and the change-rule problems the change gives them
            result = _only(root, paths, result, run(root, [Path(p) for p in paths]))
    else:
        result = run(root, [Path(p) for p in paths] if paths else None)
    out = render(result.problems, fmt.value, result.checked)
    if out:
        typer.echo(out)
    raise typer.Exit(1 if result.problems else 0)


def _only(root: Path, paths: list[Path], changed, own):
    """``validate --changed PATH...``: the problems of a plain validation of PATH, plus the problems that
    the check against the base found in those files."""
    from ..problems import display_path
    from ..validate import Result

    mine = {p.path for p in own.problems} | {display_path(Path(p).resolve(), root) for p in paths}
    problems = sorted(set(own.problems) | {p for p in changed.problems if p.path in mine})
    return Result(kb=own.kb, problems=problems, checked=own.checked)


def schema(
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder to write the schemas to (default: schema/ in the root).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only report schemas that differ from the record models.")
    ] = False,
    root: RootOption = None,
) -> None:
    """Generate schema/<kind>.schema.json from the record models (or --check for drift)."""
    from .. import schema as gen
    from ..load import find_root

    folder = out or (root or find_root()) / "schema"
    if check:
        stale = gen.drift(folder)
        for name in stale:
            typer.echo(f"{folder / name}: differs from the record models; run `riskcards schema`")
        raise typer.Exit(1 if stale else 0)
    for path in gen.write_all(folder):
        typer.echo(str(path))


def new(
    card_id: Annotated[str | None, typer.Argument(help="The new card's id (a lower-case slug).")] = None,
    title: Annotated[str | None, typer.Option(help="Short name of the risk.")] = None,
    summary: Annotated[str | None, typer.Option(help="One sentence: what the model does.")] = None,
    author: Annotated[str | None, typer.Option(help="Your name or handle, recorded as contributor.")] = None,
    placement: Annotated[
        list[str] | None, typer.Option("--placement", "-p", help="taxonomy-id:code, repeatable.")
    ] = None,
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", "-s", help="Scenario id the risk applies to, repeatable.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    root: RootOption = None,
) -> None:
    """Scaffold cards/<id>.yaml that validates as written. Asks for what is missing on a terminal."""
    from ..load import find_root
    from ..scaffold import ScaffoldError, write_card

    root = root or find_root()
    interactive = sys.stdin.isatty()

    def ask(label: str, value: str | None, default: str | None = None) -> str:
        if value:
            return value
        if not interactive:
            typer.echo(f"error: --{label} is required when not on a terminal", err=True)
            raise typer.Exit(2)
        return typer.prompt(label.replace("-", " ").capitalize(), default=default)

    title = ask("title", title)
    from ..ids import suggest_id

    card_id = ask("id", card_id, suggest_id(title))
    summary = ask("summary", summary)
    author = author or (typer.prompt("Your name or handle", default="anonymous") if interactive else "anonymous")
    try:
        path = write_card(
            root,
            card_id,
            title=title,
            summary=summary,
            author=author,
            placements=placement or [],
            scenarios=scenario or [],
            force=force,
        )
    except ScaffoldError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {path}\nnext: edit it, then run `riskcards validate {path}`")
