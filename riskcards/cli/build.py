"""`riskcards build` (the main job) and `riskcards site`.

``build``: validate -> index -> export dumps -> MkDocs build into public/. A broken knowledge base stops it
before anything is written, with the validator's located messages (exit 1). The site is built into a
temporary folder beside the output and swapped in only when the build succeeded, so public/ never holds
a half-built or dirty site.

``site``: only the MkDocs step (the plugin rebuilds a stale index itself); ``--serve`` previews it with live
reload when a card, taxonomy, scenario or model file changes.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ..paths import shown


def register(app: typer.Typer) -> None:
    app.command("build")(build)
    app.command("site")(site)


RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Knowledge-base root (holds cards/, taxonomies/ and mkdocs.yml). Default: found from the current folder.",
    ),
]


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def _root(root: Path | None) -> Path:
    from ..query import find_root

    return (root or find_root()).resolve()


def _config_file(root: Path, config: Path | None) -> Path:
    path = (config or root / "mkdocs.yml").resolve()
    if not path.is_file():
        _err(f"error: no MkDocs configuration at {path}; pass --config")
        raise typer.Exit(2)
    return path


def _logging(verbose: bool) -> None:
    import logging

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    logger = logging.getLogger("mkdocs")
    if not any(getattr(h, "_riskcards", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
        handler._riskcards = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False


def build_site(config_file: Path, site_dir: Path, *, verbose: bool = False) -> None:
    """A clean MkDocs build of ``config_file`` into ``site_dir``, swapped in atomically.

    Raises ``SiteError`` with the reason when MkDocs (or the riskcards plugin) fails."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    _logging(verbose)
    site_dir = site_dir.resolve()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = site_dir.with_name(f".{site_dir.name}.{os.getpid()}.tmp")
    old = site_dir.with_name(f".{site_dir.name}.{os.getpid()}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        cfg = load_config(config_file=str(config_file), site_dir=str(tmp))
        cfg.plugins.on_startup(command="build", dirty=False)
        try:
            mkdocs_build(cfg, dirty=False)
        finally:
            cfg.plugins.on_shutdown()
    except MkDocsException as exc:  # Abort, PluginError, ConfigurationError: messages a person can act on
        shutil.rmtree(tmp, ignore_errors=True)
        raise SiteError(str(exc)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if site_dir.exists():
        os.replace(site_dir, old)
    os.replace(tmp, site_dir)
    shutil.rmtree(old, ignore_errors=True)


class SiteError(Exception):
    """The site could not be built; str() says why."""


def build(
    root: RootOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where the site goes (default: public/ in the root).")
    ] = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="The index to write (default: build/riskcards.db in the root).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="MkDocs configuration (default: mkdocs.yml in the root).")
    ] = None,
    no_site: Annotated[bool, typer.Option("--no-site", help="Stop after the index and the dumps.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show MkDocs' progress messages.")] = False,
) -> None:
    """Validate, index, export the dumps and build the site into public/. Exit 0 built, 1 problems, 2 usage error."""
    from .. import exporters, query
    from ..index import IndexProblems
    from ..index import build as build_index
    from ..problems import render

    root = _root(root)
    if not (root / "cards").is_dir():
        _err(f"error: {root} is not a knowledge base (no cards/ folder); use --root")
        raise typer.Exit(2)
    config_file = None if no_site else _config_file(root, config)
    t0 = time.perf_counter()
    db_path = (db or query.default_db_path(root)).resolve()
    try:
        report = build_index(root, db_path)
    except IndexProblems as exc:
        _err(render(exc.problems, "text", exc.checked))
        _err("nothing was built: fix the problems above (`riskcards validate` shows them too)")
        raise typer.Exit(1) from None
    c = report.counts
    print(
        f"1/3 validated and indexed {c.get('cards', 0)} cards, {c.get('examples', 0)} examples, "
        f"{c.get('guard_results', 0)} guard verdicts into {shown(db_path)} ({report.seconds:.2f} s)"
    )
    t1 = time.perf_counter()
    conn = query.connect(db_path)
    try:
        written = [shown(p) for p in exporters.write_dumps(conn, db_path.parent).values()]
    finally:
        conn.close()
    print(f"2/3 exported {', '.join(written)} ({time.perf_counter() - t1:.2f} s)")
    if no_site or config_file is None:
        return
    t2 = time.perf_counter()
    site_dir = (out or root / "public").resolve()
    plugin_db = _plugin_db(config_file)
    if plugin_db is not None and plugin_db != db_path:
        _err(f"note: {config_file.name} reads the index at {shown(plugin_db)}, not {shown(db_path)}")
    try:
        build_site(config_file, site_dir, verbose=verbose)
    except SiteError as exc:
        _err(f"error: the site was not built: {exc}")
        raise typer.Exit(1) from None
    pages = sum(1 for _ in site_dir.rglob("index.html"))
    print(f"3/3 built the site: {pages} pages in {shown(site_dir)} ({time.perf_counter() - t2:.2f} s)")
    print(
        f"done in {time.perf_counter() - t0:.2f} s; preview with `riskcards site --serve` or "
        f"`python -m http.server -d {shown(site_dir)}`"
    )


def _plugin_db(config_file: Path) -> Path | None:
    """The index path the riskcards plugin is configured to read (for a mismatch warning)."""
    import yaml

    try:
        data = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    for entry in data.get("plugins") or []:
        if isinstance(entry, dict) and "riskcards" in entry:
            opts = entry["riskcards"] or {}
            return (config_file.parent / opts.get("db", "build/riskcards.db")).resolve()
    return None


def site(
    root: RootOption = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the site with live reload instead of building it.")
    ] = False,
    dev_addr: Annotated[str, typer.Option("--dev-addr", help="Address to serve on.")] = "127.0.0.1:8000",
    dirty: Annotated[
        bool,
        typer.Option("--dirty", help="With --serve: re-render only pages whose content changed (fast; preview only)."),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where the site goes (default: public/ in the root).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="MkDocs configuration (default: mkdocs.yml in the root).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show MkDocs' progress messages.")] = False,
) -> None:
    """Build only the site (the index is rebuilt first when stale), or --serve it with live reload."""
    root = _root(root)
    config_file = _config_file(root, config)
    if serve:
        from mkdocs.commands.serve import serve as mkdocs_serve
        from mkdocs.exceptions import MkDocsException

        _logging(True)
        try:
            # MkDocs warns on every dirty build and strict mode makes that fatal: a dirty preview runs with strict off
            # (the riskcards plugin still fails on broken links in generated pages). Never publish a dirty build.
            extra: dict[str, Any] = {"strict": False} if dirty else {}
            mkdocs_serve(
                config_file=str(config_file),
                dev_addr=dev_addr,
                livereload=True,
                build_type="dirty" if dirty else None,
                **extra,
            )
        except MkDocsException as exc:
            _err(f"error: {exc}")
            raise typer.Exit(1) from None
        return
    site_dir = (out or root / "public").resolve()
    t0 = time.perf_counter()
    try:
        build_site(config_file, site_dir, verbose=verbose)
    except SiteError as exc:
        _err(f"error: the site was not built: {exc}")
        raise typer.Exit(1) from None
    print(f"built the site into {shown(site_dir)} in {time.perf_counter() - t0:.2f} s")
