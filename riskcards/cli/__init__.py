"""The `riskcards` command: a thin typer app over the library.

Each module in this package registers its commands with ``register(app)``; none holds logic of its own
beyond reading options and printing results. Heavy imports (pydantic, rich, sqlite-utils, mkdocs) happen
inside the commands, so that ``riskcards --help`` and quick queries start fast.
"""

import importlib
import os
import sys

TYPE_CHECKING = False  # typing is not imported at run time: `riskcards query` starts fast
if TYPE_CHECKING:
    from collections.abc import Callable

# Command modules, in help order. Each defines register(app).
MODULES = ["core", "build", "query", "importers", "guard", "assess", "contrib"]

_app = None


def __getattr__(name: str):
    """``riskcards.cli.app`` is built on first use, so that quick commands (see main) never import typer."""
    if name == "app":
        if _app is None:
            _make_app()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _make_app() -> None:
    global _app
    import typer

    _app = typer.Typer(
        name="riskcards",
        help="RiskCards: validate, index, query and publish a knowledge base of language-model risks.",
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    _app.callback()(_declare_global_options())
    _plain_help_types()
    _register(_app)


def _declare_global_options() -> "Callable[..., None]":
    """Give ``_global_options`` its typer declarations (typer is imported only when the app is built)."""
    from pathlib import Path
    from typing import Annotated

    import typer

    def version_cb(value: bool) -> None:
        if value:
            typer.echo(f"riskcards {_version()}")
            raise typer.Exit(0)

    def callback(
        version: Annotated[
            bool, typer.Option("--version", callback=version_cb, is_eager=True, help="Print the version and exit.")
        ] = False,
        root: Annotated[
            Path | None,
            typer.Option(
                "--root", help="Knowledge-base root for every command (also accepted after the command name)."
            ),
        ] = None,
    ) -> None:
        """RiskCards: validate, index, query and publish a knowledge base of language-model risks."""
        if root is not None:
            os.environ["RISKCARDS_ROOT"] = str(root.resolve())

    return callback


def _version() -> str:
    from .. import __version__

    return __version__


def _plain_help_types() -> None:
    """Help shows TEXT, PATH, INTEGER, PATH... and [a|b] after options, and nothing after flags, instead of
    typer's Python type names (<str>, <bool>, <list[Path]>)."""
    from typer.core import TyperArgument, TyperOption

    names = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH", "Path": "PATH", "bool": ""}

    def plain(label: str) -> str | None:
        many = label.startswith("list[")
        inner = label[5:-1] if many else label
        shown = f"[{inner}]" if "|" in inner else names.get(inner, inner.upper())
        return (shown + "..." if many else shown) or None

    for cls in (TyperOption, TyperArgument):
        if getattr(cls, "_riskcards_plain", False):
            continue
        original = cls.display_type_rich

        def display_type_rich(self, ctx, original=original):
            if getattr(self, "is_flag", False) or getattr(self, "count", False):
                return None
            label = original(self, ctx)
            return plain(label[1:-1]) if label and label.startswith("<") and label.endswith(">") else label

        setattr(cls, "display_type_rich", display_type_rich)  # noqa: B010 - patching typer's class
        setattr(cls, "_riskcards_plain", True)  # noqa: B010


def _register(app) -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}").register(app)


def _global_argv(argv: list[str]) -> list[str]:
    """Take ``--root DIR`` given before the command name (``riskcards --root DIR query ...``) out of argv,
    into RISKCARDS_ROOT, so that every command (and the fast path) sees it; the rest is returned."""
    rest = list(argv)
    while rest:
        if rest[0] == "--root" and len(rest) > 1:
            os.environ["RISKCARDS_ROOT"] = os.path.abspath(rest[1])
            rest = rest[2:]
        elif rest[0].startswith("--root="):
            os.environ["RISKCARDS_ROOT"] = os.path.abspath(rest[0].split("=", 1)[1])
            rest = rest[1:]
        else:
            break
    return rest


def main() -> None:
    # The read-only commands (query, show and the listings) run without typer, rich or pydantic when they
    # can (riskcards.cli.query.fast_main): a whole process then costs little more than Python and SQLite.
    # So does --help, once typer has drawn it (riskcards.cli.helpcache).
    argv = _global_argv(sys.argv[1:])
    if argv == ["--version"]:
        print(f"riskcards {_version()}")
        sys.exit(0)
    if argv and not argv[0].startswith("-") and not any(k.endswith("_COMPLETE") for k in os.environ):
        from .query import FAST_COMMANDS, fast_main

        if argv[0] in FAST_COMMANDS:
            code = fast_main(argv)
            if code is not None:
                sys.exit(code)
    sys.argv[1:] = argv
    if not any(k.endswith("_COMPLETE") for k in os.environ):
        from . import helpcache  # --help: typer's text, stored once drawn (see the module)

        if helpcache.wants_help(argv):
            digest = helpcache.key(argv)  # computed once: a miss draws and stores under the same key
            if helpcache.serve(digest):
                sys.exit(0)
            helpcache.draw_and_keep(digest, __getattr__("app"))
    __getattr__("app")()
