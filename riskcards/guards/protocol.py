"""The guard protocol: what goes into a guard, what comes out, and the three parts of every guard.

    GuardInput --formatter--> Request --transport--> Exchange --parser--> Verdict

* A **formatter** (adapter-specific, pure) turns the input into a request: chat messages for a server that
  applies the model's own template, a client-rendered prompt for a completions endpoint or a local model,
  or a plain text for a classifier.
* A **transport** (adapter-agnostic) sends the request and returns the exact raw output. Only transports
  do I/O.
* A **parser** (adapter-specific, a pure function over the raw output) returns the verdict. Unknown,
  truncated, empty or chatty output is ``error``, never ``safe``.

Native category codes stay native here: mapping them to other taxonomies is done later, from crosswalk data
(``riskcards.guards.coverage``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Target = Literal["prompt", "response"]
Label = Literal["safe", "unsafe", "error"]
Mode = Literal["chat", "completions", "moderation", "python"]


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant" | "tool"
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class GuardInput:
    """What a guard classifies: a conversation, and whether its prompt or its last response is judged.

    For ``prompt`` the conversation ends with a user turn; for ``response`` it ends with an assistant turn."""

    messages: tuple[Message, ...]
    target: Target

    @classmethod
    def of(cls, messages: Sequence[Mapping[str, str]] | Sequence[Message], target: Target) -> GuardInput:
        msgs = tuple(m if isinstance(m, Message) else Message(m["role"], m["content"]) for m in messages)
        return cls(msgs, target)

    @property
    def prompt(self) -> str:
        """The last user message."""
        return next((m.content for m in reversed(self.messages) if m.role == "user"), "")

    @property
    def response(self) -> str | None:
        """The last assistant message, for response classification."""
        if self.target != "response":
            return None
        return next((m.content for m in reversed(self.messages) if m.role == "assistant"), None)

    @property
    def judged_text(self) -> str:
        """The single text a context-free classifier sees: the response for 'response', else the prompt."""
        return (self.response if self.target == "response" else self.prompt) or ""


@dataclass(frozen=True)
class Request:
    """What a formatter produced for one call. ``policy`` names the sub-call of a multi-call guard."""

    mode: Mode
    messages: tuple[Mapping[str, Any], ...] = ()  # JSON-ready chat messages, exactly as sent
    prompt: str | None = None  # completions / python modes
    extra_body: Mapping[str, Any] = field(default_factory=dict)  # e.g. chat_template_kwargs
    policy: str | None = None
    target: Target | None = None  # filled in by Guard.classify from the input


@dataclass(frozen=True)
class Exchange:
    """What a transport got back: the raw text exactly as returned, plus what a parser may need."""

    raw: str
    finish_reason: str | None = None
    logprobs: Any = None  # the transport's native logprobs structure, or None
    served_model: str | None = None
    test_double: bool = False  # the server identified itself as a test double
    latency_ms: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """A parsed verdict. ``categories`` are the guard's native codes, checked against its code list."""

    label: Label
    categories: tuple[str, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    raw: str = ""
    parse_error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    tier: str | None = None
    """A tiered guard's native tier code (riskcards/guards/tiers.py), kept beside the label."""

    def __post_init__(self) -> None:
        if self.label == "error" and not self.parse_error:
            raise ValueError("an error verdict needs a parse_error saying why")
        if self.label != "error" and self.parse_error:
            raise ValueError("only error verdicts carry a parse_error")

    @classmethod
    def error(cls, raw: str, why: str, **extra: Any) -> Verdict:
        return cls("error", (), {}, raw, why, extra)


class FormatError(ValueError):
    """The input cannot be put to this guard (e.g. a system turn for Llama Guard, roles not alternating)."""


TRANSIENT_STATUS = frozenset({401, 403, 404, 407, 408, 409, 425, 429})
"""4xx answers about the request's setting rather than its input (credentials, endpoint, rate): worth sending
again once fixed. Every other 4xx is a permanent rejection of this input."""


class TransportError(Exception):
    """A request failed for good (after retries, or a status that is not retried).

    ``kind`` is what the verdict records as ``error_kind``: 'transport' (transient: timeouts, dropped
    connections, 5xx or 429 after retries, credentials or endpoint wrong; sent again on the next run),
    'rejected' (a permanent 4xx for this input, e.g. 400 for an over-long prompt; final) or 'response' (a 200
    that is not an answer: no ``choices``, no ``results``; final)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        test_double: bool = False,
        kind: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.test_double = test_double
        if kind is None:
            if retryable or status is None or status >= 500 or status in TRANSIENT_STATUS:
                kind = "transport"
            elif status == 200:
                kind = "response"
            else:
                kind = "rejected"
        self.kind = kind


class Transport(Protocol):
    """Sends one request; returns the exact raw output. Implementations live in riskcards/guards/transports/."""

    @property
    def name(self) -> str:
        """The transport's registered name: "openai-chat", "openai-completions", "local-transformers"..."""
        ...

    runtime: str | None  # runtime versions, recorded with each result

    def send(self, request: Request, *, model: str, params: Mapping[str, Any]) -> Exchange: ...

    def probe(self) -> dict[str, Any]:
        """Reach the model once before a run: served model ids, test-double flag, runtime."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Values this transport sends that must never be stored (its API key)."""
        ...

    def describe(self) -> dict[str, Any]:
        """Where requests go (no secrets): endpoint, served model, runtime, test-double flag."""
        ...

    def close(self) -> None: ...


@dataclass
class Outcome:
    """A verdict with what the run needs to record about it."""

    verdict: Verdict
    latency_ms: float = 0.0
    test_double: bool = False
    served_model: str | None = None
    requests: int = 0


class Guard:
    """A guard: an adapter (formatter + pure parser) over a transport, with its settings.

    ``classify`` never raises for a bad input or a failed request: it returns an ``error`` verdict whose
    ``extra.error_kind`` says what failed ('format', or the TransportError's kind: 'transport', 'rejected',
    'response'); parse failures have no error_kind."""

    def __init__(self, adapter: Any, transport: Transport, settings: Any, *, model_name: str) -> None:
        self.adapter = adapter
        self.transport = transport
        self.settings = settings
        self.model_name = model_name

    def classify(self, inp: GuardInput) -> Outcome:
        from dataclasses import replace

        try:
            requests = [replace(r, target=inp.target) for r in self.adapter.requests(inp, self.settings)]
        except FormatError as exc:
            return Outcome(Verdict.error("", f"cannot put this input to the guard: {exc}", error_kind="format"))
        verdicts, latency, test_double, served, sent = [], 0.0, False, None, 0
        for req in requests:
            sent += 1
            try:
                ex = self.transport.send(req, model=self.model_name, params=self.settings.params)
            except TransportError as exc:
                extra: dict[str, Any] = {"error_kind": exc.kind, "status": exc.status}
                if req.policy:
                    extra["policy"] = req.policy
                out = Outcome(
                    Verdict.error("", f"transport: {exc}", **extra),
                    latency,
                    test_double or exc.test_double,
                    served,
                    sent,
                )
                return out
            latency += ex.latency_ms
            test_double = test_double or ex.test_double or bool(getattr(self.transport, "test_double", False))
            served = ex.served_model or served
            verdicts.append(self.adapter.parse(ex, req, self.settings))
        return Outcome(self.adapter.merge(verdicts), latency, test_double, served, sent)
