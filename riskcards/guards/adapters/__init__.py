"""Guard adapters, one file per adapter in this folder, registered by name.

An adapter is a formatter (input -> requests) and a pure parser (raw output -> verdict) for one guard family;
transports are separate (riskcards/guards/transports/). ``get(name)`` returns an adapter instance;
``names()`` lists them. Every module here is imported on first use, so adding an adapter is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Adapter

REGISTRY: dict[str, type[Adapter]] = {}
_loaded = False


def register(cls: type[Adapter]) -> type[Adapter]:
    """Class decorator: make the adapter available under ``cls.name``."""
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(f"two adapters are named {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_") and info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True


def names() -> list[str]:
    _load_all()
    return sorted(REGISTRY)


def get(name: str) -> Adapter:
    """The adapter registered as ``name``. Raises KeyError with the known names."""
    _load_all()
    if name not in REGISTRY:
        from ...ids import did_you_mean

        raise KeyError(
            f"no guard adapter named {name!r}{did_you_mean(name, REGISTRY)}; known: {', '.join(sorted(REGISTRY))}"
        )
    return REGISTRY[name]()
