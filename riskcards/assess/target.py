"""The model under assessment, reached through the guard transports (the one place requests leave).

This is a small seam: ``open_target`` turns the assessment's ``scope.interface`` into a ``TransportConfig``
and opens it through the transport registry (``riskcards/guards/transports/``: OpenAI-compatible chat or
completions, local transformers, an in-process python function), as guards are opened, and
``Target.send`` puts a conversation to it. Keys come only from the environment variable that
``api_key_env`` names. A server that announces itself as a test double is remembered (``test_double``), so
its output is marked ``stub`` and refused for a knowledge base's assessments/.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..guards.protocol import Exchange, Request, TransportError

__all__ = ["RefusedError", "Target", "TransportError", "open_target", "completion_prompt", "refuse_test_double"]


class RefusedError(Exception):
    """A test double's output would enter a knowledge base's assessments/."""


def refuse_test_double(folder: Path, target: Target, info: dict[str, Any] | None = None) -> bool:
    """Whether the target is a test double; raises RefusedError when its output would enter a knowledge base."""
    from . import in_knowledge_base

    double = bool((info or {}).get("test_double")) or target.test_double
    if double and in_knowledge_base(folder):
        where = (info or {}).get("base_url", "the target")
        raise RefusedError(
            f"{where} is a test double; its output never goes into {folder}. "
            "Use a folder outside a knowledge base's assessments/ for tests."
        )
    return double


def completion_prompt(messages: Sequence[Mapping[str, str]]) -> str:
    """The prompt a completions endpoint gets for a conversation: the lone user message as it is, else each
    message as 'role: content' on its own lines, ending with 'assistant:'."""
    if len(messages) == 1 and messages[0]["role"] == "user":
        return messages[0]["content"]
    return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"


@dataclass
class Target:
    """An open target: a transport plus what every log entry records about it."""

    transport: Any
    kind: str
    model: str
    model_name: str
    host: str | None
    revision: str | None
    params: dict[str, Any]

    @property
    def test_double(self) -> bool:
        return bool(getattr(self.transport, "test_double", False))

    def probe(self) -> dict[str, Any]:
        """Ask the server what it serves (once, before a run); marks a test double."""
        probe = getattr(self.transport, "probe", None)
        return probe() if probe is not None else {}

    def send(self, messages: Sequence[Mapping[str, str]]) -> Exchange:
        """One request with retries (inside the transport). Raises TransportError when it fails for good."""
        msgs = tuple({"role": m["role"], "content": m["content"]} for m in messages)
        if self.kind == "openai-completions":
            req = Request(mode="completions", prompt=completion_prompt(msgs))
        else:
            req = Request(mode="chat", messages=msgs)
        return self.transport.send(req, model=self.model_name, params=self.params)

    def record(self) -> dict[str, Any]:
        """The log entry's ``target``."""
        return {
            "transport": self.kind,
            "host": self.host,
            "model": self.model,
            "model_name": self.model_name,
            "revision": self.revision,
            "runtime": getattr(self.transport, "runtime", None),
            "source": "stub" if self.test_double else "live",
        }

    @property
    def attempts(self) -> int:
        return int(getattr(self.transport, "attempts", 0))

    def close(self) -> None:
        self.transport.close()


def open_target(
    assessment: Any,
    base: Path,
    *,
    base_url: str | None = None,
    concurrency: int | None = None,
    retries: int | None = None,
    timeout: float | None = None,
    backoff: float = 0.5,
    transport: Any = None,
) -> Target:
    """The target of an assessment, opened through the transport registry (``riskcards.guards.transports``)
    from its interface, as a guard is from guards.yaml. A relative ``model_path`` is taken from ``base`` (the
    assessment's folder). Raises TransportError when it cannot be opened (missing field, key, package, entry)."""
    from ..guards import transports

    itf = assessment.scope.interface
    model_name = itf.model_name or assessment.scope.model
    params = dict(itf.params)
    params.setdefault("max_tokens", 512)
    url = base_url or itf.base_url
    path = Path(itf.model_path) if itf.model_path else None
    if path is not None and not path.is_absolute():
        path = Path(base) / path
    config = transports.TransportConfig(
        itf.transport,
        base_url=url,
        model_path=path,
        api_key_env=itf.api_key_env,
        timeout=timeout or itf.timeout,
        retries=itf.retries if retries is None else retries,
        backoff=backoff,
        concurrency=concurrency or itf.concurrency,
        logprobs=None,
        entry=itf.entry,
    )
    if transport is None:
        transport = transports.open_transport(config)
        headers = getattr(transport, "_headers", None)
        if isinstance(headers, dict):
            headers["User-Agent"] = "riskcards-assess"
    revision = assessment.scope.model_version or getattr(transport, "revision", None)
    host = urlsplit(url).netloc if itf.transport.startswith("openai-") and url else "local"
    return Target(transport, itf.transport, assessment.scope.model, model_name, host, revision, params)
