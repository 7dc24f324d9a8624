"""The `riskcards` command: a thin typer app over the library.

Each module in this package registers its commands with ``register(app)``; none holds logic of its own
beyond reading options and printing results. Heavy imports (pydantic, rich, sqlite-utils, mkdocs) happen
inside the commands, so that ``riskcards --help`` and quick queries start fast.
"""

from __future__ import annotations

import importlib
import os
import sys

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
    _register(_app)


def _register(app) -> None:
    for name in MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # not written yet
            raise
        module.register(app)


def main() -> None:
    # `query` and `show` run without typer, rich or pydantic when they can (riskcards.cli.query.fast_main):
    # a whole query process then costs little more than Python and SQLite themselves.
    argv = sys.argv[1:]
    if argv and argv[0] in ("query", "show") and not any(k.endswith("_COMPLETE") for k in os.environ):
        from .query import fast_main

        code = fast_main(argv)
        if code is not None:
            sys.exit(code)
    __getattr__("app")()
