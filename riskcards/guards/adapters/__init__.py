"""Guard adapters, one file per adapter in this folder, registered by name.

An adapter is a formatter (input -> requests) and a pure parser (raw output -> verdict) for one guard family;
transports are separate (riskcards/guards/transports/). ``get(name)`` returns an adapter instance;
``names()`` lists them. Every module here is imported on first use, so adding an adapter is adding a file.
"""

from __future__ import annotations

from ... import registry
from .base import Adapter

REGISTRY: dict[str, type[Adapter]] = {}
_loaded = False


def register(cls: type[Adapter]) -> type[Adapter]:
    """Class decorator: make the adapter available under ``cls.name``."""
    return registry.add(__name__, cls, plural="adapters")


def names() -> list[str]:
    return registry.names(__name__)


def get(name: str) -> Adapter:
    """The adapter registered as ``name``. Raises KeyError with the known names."""
    return registry.lookup(__name__, name, noun="guard adapter")()
