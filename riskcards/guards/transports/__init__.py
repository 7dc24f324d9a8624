"""Transports: how a request reaches a model and its raw output comes back. Only these do I/O.

One file per transport in this folder, each a class decorated with ``@register`` that declares everything
about itself (``name``, the request ``modes`` it carries, the config fields it ``requires``, how to ``open``
it from a :class:`TransportConfig`, and its revision when the config does not give one). Adding a transport
is adding a file: the guard config, ``riskcards guard list``, the runner and the records all read the
registry. ``riskcards guard transports`` lists them.

The API is usable outside guards (the assessment sends probes to target models through it)::

    from riskcards.guards import transports
    t = transports.open_transport(transports.TransportConfig("openai-chat", base_url=..., api_key_env="X"))
    exchange = t.send(Request("chat", messages=(...)), model="name", params={"temperature": 0})

Keys are read only from the environment variable that ``api_key_env`` names. ``test_double: true`` marks a
transport (or a server that sends the ``X-RiskCards-Test-Double`` header marks itself) as a test double: its
answers are never written into a knowledge base's checks/ (``riskcards.guards.store.refuse_test_double``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import registry
from .base import TransportBase

REGISTRY: dict[str, type[TransportBase]] = {}
_loaded = False


@dataclass(frozen=True)
class TransportConfig:
    """How to reach a model, with the same field names as a guard in guards.yaml. No key is ever held here."""

    transport: str
    base_url: str | None = None
    model_path: Path | None = None
    api_key_env: str | None = None
    timeout: float = 60.0
    retries: int = 4
    backoff: float = 0.5
    concurrency: int = 8
    logprobs: int | None = None
    test_double: bool = False
    entry: str | None = None  # python transport without an adapter: 'module:function' taking text, giving text

    def api_key(self) -> str | None:
        """The key from the environment variable ``api_key_env`` names, or None. Never logged, never stored."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None


def register(cls: type[TransportBase]) -> type[TransportBase]:
    """Class decorator: make the transport available under ``cls.name``."""
    return registry.add(__name__, cls, plural="transports")


def names() -> list[str]:
    return registry.names(__name__)


def get(name: str) -> type[TransportBase]:
    """The transport class registered as ``name``. Raises KeyError with the known names."""
    return registry.lookup(__name__, name, noun="transport")


def missing_fields(config: TransportConfig) -> list[str]:
    """The fields ``config`` lacks that its transport requires (e.g. base_url for HTTP)."""
    return [f for f in get(config.transport).requires if not getattr(config, f)]


def open_transport(config: TransportConfig, *, source: Any = None) -> TransportBase:
    """The transport of ``config``, opened. ``source`` is what an in-process transport runs (a guard adapter
    with ``load()``). Raises TransportError when it cannot be opened (missing field, key, package)."""
    from ..protocol import TransportError

    cls = get(config.transport)
    missing = missing_fields(config)
    if missing:
        raise TransportError(f"transport '{cls.name}' needs {', '.join(repr(f) for f in missing)}")
    return cls.open(config, source=source)


__all__ = [
    "REGISTRY",
    "TransportBase",
    "TransportConfig",
    "get",
    "missing_fields",
    "names",
    "open_transport",
    "register",
]
