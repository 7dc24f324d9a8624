"""`riskcards import ...`: bring cards in from other formats (a thin layer over riskcards.importers)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import_app = typer.Typer(
    name="import",
    help="Import cards from other formats (the legacy lm_risk_cards starter set).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")


@import_app.command("lm-risk-cards")
def lm_risk_cards(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Legacy card files (*.md) or folders of them, in either form (2023 markdown, 2024 YAML-ish)."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Knowledge-base folder to write cards/<id>.yaml into (default: the knowledge-base root)."
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write the report to FILE: JSON when FILE ends in .json, text otherwise."),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Write nothing; report what would be created or changed (exit 1 if anything would)."
        ),
    ] = False,
    created: Annotated[
        str,
        typer.Option(
            "--created", help="The 'created' date of imported cards, YYYY-MM-DD (fixed, so imports are repeatable)."
        ),
    ] = "2023-03-31",
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help=(
                "Language of the examples (default: the folder name "
                "when it is a language code such as 'en', else 'en')."
            ),
        ),
    ] = None,
    root: Annotated[
        Path | None, typer.Option("--root", help="Knowledge base whose models/ and vocab/ are used (default: --out).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace existing cards that were not made by an import.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary line.")] = False,
) -> None:
    """Import legacy lm_risk_cards cards: one valid card per legacy card, nothing lost silently.

    Exit 0 when every card was imported (warnings are listed), 1 when a file could not be read, a card
    does not validate, or (with --check) something would change, 2 on a usage error.
    """
    import re

    from ..ids import DATE_PATTERN, LANG_HINT, LANG_PATTERN
    from ..importers.run import import_lm_risk_cards, write_report
    from ..load import find_root

    if not re.match(DATE_PATTERN, created):
        typer.echo(f"error: --created '{created}' is not a date; write it as YYYY-MM-DD, e.g. 2026-01-31", err=True)
        raise typer.Exit(2)
    if lang is not None and not re.match(LANG_PATTERN, lang):
        typer.echo(f"error: --lang '{lang}' is not {LANG_HINT}", err=True)
        raise typer.Exit(2)
    out = out or find_root()
    if out.exists() and not out.is_dir():
        typer.echo(
            f"error: --out {out} is a file; give the knowledge-base folder (cards are written to <out>/cards/)",
            err=True,
        )
        raise typer.Exit(2)
    result = import_lm_risk_cards(
        list(paths), out, check=check, created=created, lang=lang, root=root or out, force=force
    )
    text = result.text()
    typer.echo(text.rstrip("\n").rsplit("\n", 1)[-1] if quiet else text.rstrip("\n"))
    if report is not None:
        try:
            write_report(result, report)
        except OSError as exc:
            typer.echo(f"error: cannot write the report to {report}: {exc.strerror or exc}", err=True)
            raise typer.Exit(1) from None
    raise typer.Exit(result.exit_code())
