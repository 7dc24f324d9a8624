"""The ``python`` transport: a classifier that runs in this process (e.g. the offline profanity check).

The adapter provides ``load() -> (classify(text) -> raw, revision, runtime)``; nothing goes over a network.
Calls are serialised (scikit-learn models are cheap per call and not worth threading)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from ..protocol import Exchange, Request, TransportError
from . import TransportConfig, register
from .base import TransportBase


def _entry(spec: str) -> Any:
    """A loader for 'module:function' (function(text) -> raw text): revision is the module's package version."""
    import importlib
    import importlib.metadata as md

    module, _, attr = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise TransportError(f"entry {spec!r}: cannot import it ({type(exc).__name__}: {exc})") from None
    try:
        version = md.version(module.split(".")[0])
    except md.PackageNotFoundError:
        version = None

    class Loader:
        name = spec
        test_double = bool(getattr(fn, "test_double", False))  # a function may announce itself as a test double

        @staticmethod
        def load() -> tuple[Any, str | None, str | None]:
            return fn, (f"{module}=={version}" if version else None), None

    return Loader


@register
class PythonTransport(TransportBase):
    name = "python"
    modes = ("python", "chat")
    description = (
        "In-process: a guard adapter's own classifier (e.g. the offline profanity check), or 'entry' "
        "('module:function'; in chat mode it gets the conversation, e.g. an assessment's target)."
    )

    def __init__(self, adapter: Any, *, test_double: bool = False) -> None:
        try:
            self._classify, self.revision, self.runtime = adapter.load()
        except ImportError as exc:
            from ...paths import install_hint

            raise TransportError(
                f"the '{adapter.name}' guard needs an optional package that is not installed ({exc.name}); "
                f"install it with: {install_hint('profanity')}"
            ) from None
        self._lock = threading.Lock()
        self.attempts = 0
        self.test_double = test_double

    @classmethod
    def open(cls, config: TransportConfig, *, source: Any = None) -> PythonTransport:
        if source is None or not hasattr(source, "load"):
            if not config.entry:
                raise TransportError("the python transport runs a guard adapter's classifier or an 'entry'")
            source = _entry(config.entry)
        return cls(source, test_double=config.test_double or bool(getattr(source, "test_double", False)))

    @classmethod
    def revision_of(cls, config: TransportConfig, *, source: Any = None) -> str | None:
        try:
            return source.load()[1] if source is not None and hasattr(source, "load") else None
        except ImportError:
            return None

    def send(self, request: Request, *, model: str, params: Mapping[str, Any]) -> Exchange:
        started = time.perf_counter()
        with self._lock:
            self.attempts += 1
            if request.mode == "chat":  # a target: the function gets the conversation and answers in text
                try:
                    raw = self._classify([dict(m) for m in request.messages])
                except Exception as exc:  # noqa: BLE001 - the entry's own failure is this request's failure
                    raise TransportError(f"the python entry raised {type(exc).__name__}: {exc}"[:300]) from None
                if not isinstance(raw, str):
                    raise TransportError(f"the python entry returned {type(raw).__name__}, not text")
            else:
                raw = self._classify(request.prompt or "")
        return Exchange(raw=raw, test_double=self.test_double, latency_ms=(time.perf_counter() - started) * 1000)
