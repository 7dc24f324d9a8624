"""`riskcards changelog`: the contributor-facing commands beyond `validate` and `new`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root", help="Knowledge-base root (holds cards/ and taxonomies/). Default: found from the current folder."
    ),
]


def register(app: typer.Typer) -> None:
    app.command("changelog")(changelog)


def changelog(
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Git ref to start from (default: the newest tag before --until; none: the first commit)."
        ),
    ] = None,
    until: Annotated[str, typer.Option("--until", help="Git ref to stop at (committed records only).")] = "HEAD",
    title: Annotated[
        str | None, typer.Option("--title", help="Section heading (default: the tag and date, or 'Unreleased (date)').")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help=(
                "Write into this file (e.g. CHANGELOG.md): the new "
                "section goes first, replacing one with the same heading."
            ),
        ),
    ] = None,
    all_tags: Annotated[
        bool, typer.Option("--all", help="Write the whole changelog: unreleased changes, then one section per tag.")
    ] = False,
    root: RootOption = None,
) -> None:
    """Write a CHANGELOG section from the git history of the records: cards added, renamed, deprecated,
    changed (with their own changelog notes) and removed, then taxonomies, scenarios and models."""
    from .. import changelog as cl
    from ..load import find_root

    root = root or find_root()
    try:
        if all_tags:
            if since or title:
                typer.echo("error: --all writes every section; drop --since and --title", err=True)
                raise typer.Exit(2)
            text = cl.render_all(root, until)
            if output:
                cl.write_all(output, text)
        else:
            sec = cl.section(root, since, until, title)
            text = cl.render(sec)
            if output:
                cl.write_section(output, sec)
    except cl.GitError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if output:
        typer.echo(f"wrote {output}")
    else:
        typer.echo(text.rstrip("\n"))
