"""The `riskcards` command: a thin typer app over the library.

Each module in this package registers its commands with ``register(app)``; none holds logic of its own
beyond reading options and printing results. Heavy imports (pydantic, rich, sqlite-utils, mkdocs) happen
inside the commands, so that ``riskcards --help`` and quick queries start fast.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="riskcards",
    help="RiskCards: validate, index, query and publish a knowledge base of language-model risks.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Command modules, in help order. Each defines register(app).
MODULES = ["core", "build", "query", "importers", "guard", "contrib"]


def _register() -> None:
    for name in MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # not written yet
            raise
        module.register(app)


_register()


def main() -> None:
    app()
