"""What every adapter provides: a formatter (input -> requests), a pure parser and its static facts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from ..hashing import canonical_json, sha256_text
from ..protocol import Exchange, FormatError, GuardInput, Mode, Request, Verdict

# Special tokens that can trail a decoded output when skip_special_tokens was off.
TRAILING_SPECIALS = ("<|eot_id|>", "<|end_of_text|>", "<|eom_id|>", "</s>", "<eos>", "<end_of_turn>", "<|end_of_text|>")


@dataclass(frozen=True)
class Settings:
    """Per-guard settings from the guard config that formatters and parsers may use."""

    mode: str = "chat"  # chat | completions | moderation | python
    params: Mapping[str, Any] = field(default_factory=dict)
    categories: tuple[str, ...] | None = None  # client-rendered policy: only these codes (original numbering kept)
    policies: tuple[str, ...] | None = None  # multi-call guards: one call per policy / risk
    template_text: str | None = None  # a template file overriding the built-in one (client-render)
    content_parts: bool = False  # send message content as [{"type": "text", "text": ...}]
    chat_template_kwargs: Mapping[str, Any] = field(default_factory=dict)


UNPROMPTED_MODES = ("moderation", "python")
"""Modes in which the text goes to a classifier as it is, with no prompt template around it."""


class Adapter:
    """Base class. Subclasses set the class attributes and implement ``requests`` and ``parse``."""

    name: ClassVar[str]
    family: ClassVar[str]
    taxonomy: ClassVar[str]  # taxonomy id of the native codes
    modes: ClassVar[tuple[Mode, ...]]  # request modes the formatter supports, default first
    codes: ClassVar[tuple[str, ...]] = ()  # every native code this family can emit
    names: ClassVar[Mapping[str, str]] = {}  # code -> name as the prompt writes it
    default_params: ClassVar[Mapping[str, Any]] = {}
    description: ClassVar[str] = ""
    # One request per input, so a stored raw output re-parses to its verdict (`guard import` checks it).
    # Multi-call guards (one call per policy) store merged raw outputs and set this False.
    single_call: ClassVar[bool] = True
    # ``codes`` are exactly the codes of the taxonomy file ``taxonomy`` (the parser tests check it). False
    # for a guard that emits no codes, or whose taxonomy file is not yet written.
    codes_are_taxonomy: ClassVar[bool] = True

    # ---- static facts -------------------------------------------------------------------------------

    def allowed_codes(self, settings: Settings) -> tuple[str, ...]:
        """Codes a verdict may carry under these settings (a custom category list narrows them)."""
        if settings.categories:
            return tuple(c for c in self.codes if c in settings.categories)
        return self.codes

    def template(self, settings: Settings) -> tuple[str, str | None]:
        """(template id, sha256 of the template source plus the policy text it embeds, or None)."""
        if settings.mode in UNPROMPTED_MODES:
            return "none", None
        if settings.mode == "chat":
            return "hf-chat-template", None
        return f"client:{self.name}", None

    def check_settings(self, settings: Settings) -> list[str]:
        """Problems with the settings for this adapter, as messages a person can act on."""
        out = []
        if settings.mode not in self.modes:
            out.append(
                f"adapter '{self.name}' cannot run in mode '{settings.mode}'; use one of: {', '.join(self.modes)}"
            )
        if settings.categories:
            unknown = [c for c in settings.categories if c not in self.codes]
            if unknown:
                out.append(f"unknown categories {unknown} for {self.taxonomy}; its codes are {', '.join(self.codes)}")
        return out

    # ---- formatter and parser ----------------------------------------------------------------------

    def requests(self, inp: GuardInput, settings: Settings) -> list[Request]:
        raise NotImplementedError

    def parse(self, exchange: Exchange, request: Request, settings: Settings) -> Verdict:
        raise NotImplementedError

    def merge(self, verdicts: Sequence[Verdict]) -> Verdict:
        """One verdict from the verdicts of a multi-call guard: unsafe if any call is, error if any errs."""
        if len(verdicts) == 1:
            return verdicts[0]
        raw = canonical_json({v.extra.get("policy", str(i)): v.raw for i, v in enumerate(verdicts)})
        errors = [v for v in verdicts if v.label == "error"]
        scores: dict[str, float] = {}
        for v in verdicts:
            scores.update(v.scores)
        if errors:
            why = "; ".join(f"{v.extra.get('policy', '?')}: {v.parse_error}" for v in errors)
            return Verdict("error", (), scores, raw, why, {})
        cats = tuple(c for v in verdicts for c in v.categories)
        label: Literal["safe", "unsafe"] = "unsafe" if any(v.label == "unsafe" for v in verdicts) else "safe"
        return Verdict(label, cats, scores, raw, None, {})


def template_hash(template: str, policy_text: str) -> str:
    return sha256_text(canonical_json({"template": template, "policy": policy_text}))


def strip_specials(raw: str) -> str:
    text = raw
    changed = True
    while changed:
        changed = False
        stripped = text.rstrip()
        for tok in TRAILING_SPECIALS:
            if stripped.endswith(tok):
                text = stripped[: -len(tok)]
                changed = True
    return text


def text_messages(inp: GuardInput, *, parts: bool = False) -> list[dict[str, Any]]:
    """Chat messages for a guard template: only user/assistant turns, alternating, starting with the user."""
    msgs = list(inp.messages)
    bad = sorted({m.role for m in msgs if m.role not in ("user", "assistant")})
    if bad:
        raise FormatError(f"this guard takes only user and assistant turns, not {', '.join(bad)}")
    for i, m in enumerate(msgs):
        want = "user" if i % 2 == 0 else "assistant"
        if m.role != want:
            raise FormatError(
                f"turn {i + 1} is '{m.role}' but this guard needs turns alternating user/assistant, starting with user"
            )
    return [{"role": m.role, "content": [{"type": "text", "text": m.content}] if parts else m.content} for m in msgs]


def two_level_logprob(logprobs: Any, yes: str, no: str) -> float | None:
    """P(yes) / (P(yes) + P(no)) at the first generated position whose top candidates contain either token.

    Accepts the chat shape (``{"content": [{"token", "logprob", "top_logprobs": [{"token", "logprob"}]}]}``)
    and the completions shape (``{"tokens": [...], "top_logprobs": [{token: logprob}, ...]}``)."""
    import math

    positions: list[dict[str, float | None]] = []
    if isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
        for pos in logprobs["content"]:
            cand: dict[str, float | None] = {
                c.get("token", ""): c.get("logprob") for c in pos.get("top_logprobs") or [] if isinstance(c, dict)
            }
            if pos.get("token") is not None:
                cand.setdefault(pos["token"], pos.get("logprob"))
            positions.append(cand)
    elif isinstance(logprobs, dict) and isinstance(logprobs.get("top_logprobs"), list):
        for i, cand in enumerate(logprobs["top_logprobs"]):
            cand = dict(cand or {})
            toks, lps = logprobs.get("tokens") or [], logprobs.get("token_logprobs") or []
            if i < len(toks) and i < len(lps):
                cand.setdefault(toks[i], lps[i])
            positions.append(cand)
    else:
        return None
    for cand in positions:
        p_yes = sum(math.exp(lp) for t, lp in cand.items() if lp is not None and t.strip() == yes)
        p_no = sum(math.exp(lp) for t, lp in cand.items() if lp is not None and t.strip() == no)
        if p_yes or p_no:
            return p_yes / (p_yes + p_no)
    return None
