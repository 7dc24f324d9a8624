"""What every transport provides: its static facts, how it is opened from a config, and the calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ..protocol import Exchange, Request
    from . import TransportConfig


class TransportBase:
    """Base class. Subclasses set the class attributes and implement ``open`` and ``send``."""

    name: ClassVar[str]
    modes: ClassVar[tuple[str, ...]]  # request modes it carries, default first
    requires: ClassVar[tuple[str, ...]] = ()  # TransportConfig fields that must be set, e.g. ('base_url',)
    description: ClassVar[str] = ""

    test_double: bool = False  # answers come from a test double: never written into checks/
    runtime: str | None = None  # runtime versions, recorded with each result
    revision: str | None = None  # model revision, when the transport can tell
    attempts: int = 0  # requests sent, retries included

    @classmethod
    def open(cls, config: TransportConfig, *, source: Any = None) -> TransportBase:
        """The transport for ``config``, ready to send. Raises TransportError when it cannot be opened."""
        raise NotImplementedError

    @classmethod
    def revision_of(cls, config: TransportConfig, *, source: Any = None) -> str | None:
        """The model revision without opening the transport (recorded in results and cache keys), or None."""
        return None

    @classmethod
    def endpoint(cls, config: TransportConfig) -> str:
        """Where requests go, for listings (no secrets)."""
        return config.base_url or (str(config.model_path) if config.model_path else "in-process")

    def secrets(self) -> tuple[str, ...]:
        """Values this transport sends that must never be stored (its API key); results are scrubbed of them."""
        return ()

    def send(self, request: Request, *, model: str, params: Mapping[str, Any]) -> Exchange:
        raise NotImplementedError

    def probe(self) -> dict[str, Any]:
        """Reach the model once before a run: served model ids, test-double flag, runtime."""
        return {"served": [], "test_double": self.test_double, "runtime": self.runtime}

    def describe(self) -> dict[str, Any]:
        """Where requests go (no secrets): endpoint, runtime, test-double flag."""
        return {"transport": self.name, "runtime": self.runtime, "test_double": self.test_double}

    def close(self) -> None:
        pass
