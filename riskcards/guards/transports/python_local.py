"""The ``python`` transport: a classifier that runs in this process (e.g. the offline profanity check).

The adapter provides ``load() -> (classify(text) -> raw, revision, runtime)``; nothing goes over a network.
Calls are serialised (scikit-learn models are cheap per call and not worth threading)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from ..protocol import Exchange, Request, TransportError


class PythonTransport:
    name = "python"

    def __init__(self, adapter) -> None:
        try:
            self._classify, self.revision, self.runtime = adapter.load()
        except ImportError as exc:
            raise TransportError(
                f"the '{adapter.name}' guard needs an optional package that is not installed ({exc.name}); "
                f"install it with: pip install 'riskcards[profanity]'"
            ) from None
        self._lock = threading.Lock()
        self.attempts = 0
        self.test_double = False

    def probe(self) -> dict[str, Any]:
        return {"served": [], "test_double": False, "runtime": self.runtime}

    def send(self, request: Request, *, model: str, params: Mapping[str, Any]) -> Exchange:
        started = time.perf_counter()
        with self._lock:
            self.attempts += 1
            raw = self._classify(request.prompt or "")
        return Exchange(raw=raw, latency_ms=(time.perf_counter() - started) * 1000)

    def describe(self) -> dict[str, Any]:
        return {"transport": self.name, "runtime": self.runtime, "test_double": False}

    def close(self) -> None:
        pass
