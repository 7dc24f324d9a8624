"""Registries of plug-in classes, one module file per entry in a package (guard adapters, transports).

A package that keeps a registry holds ``REGISTRY`` (name -> class), ``_loaded`` and its ``__path__``; these
functions read them from the package module each time, so a test that adds a folder to ``__path__`` or swaps
``REGISTRY`` sees its entries used everywhere. Every module of the package except ``base`` and private ones
(``_x``) is imported on first use, so adding an entry is adding a file with ``@register``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any, TypeVar

T = TypeVar("T")


def add(package: str, cls: T, *, plural: str) -> T:
    """Register ``cls`` under its ``name`` in ``package``'s REGISTRY; a second class with the name is refused."""
    registry = sys.modules[package].REGISTRY
    name = cls.name  # type: ignore[attr-defined]
    if name in registry and registry[name] is not cls:
        raise ValueError(f"two {plural} are named {name!r}")
    registry[name] = cls
    return cls


def load_all(package: str) -> None:
    """Import every entry module of ``package`` once."""
    module = sys.modules[package]
    if getattr(module, "_loaded", False):
        return
    for info in pkgutil.iter_modules(module.__path__):
        if not info.name.startswith("_") and info.name != "base":
            importlib.import_module(f"{package}.{info.name}")
    module._loaded = True  # type: ignore[attr-defined]


def names(package: str) -> list[str]:
    load_all(package)
    return sorted(sys.modules[package].REGISTRY)


def lookup(package: str, name: str, *, noun: str) -> Any:
    """The class registered as ``name``. Raises KeyError naming the nearest and all known names."""
    load_all(package)
    registry = sys.modules[package].REGISTRY
    if name not in registry:
        from .ids import did_you_mean

        known = ", ".join(sorted(registry))
        raise KeyError(f"no {noun} named {name!r}{did_you_mean(name, registry)}; known: {known}")
    return registry[name]
