"""Granite Guardian (IBM) 3.0-3.3 and 4.1: one risk per call; 'Yes'/'No', or '<score> yes </score>'.

Output forms (guard-models.md section 3.7):

* 3.0 / 3.1: ``Yes`` or ``No``;
* 3.2: ``Yes\\n<confidence> High </confidence>`` (the confidence goes to ``extra``);
* 3.3 / 4.1: ``<think>...</think>\\n<score> yes </score>`` (exactly one score tag).

'Yes' means the risk is present for the built-in risks. Bring-your-own criteria in 4.1 can invert that:
set ``params: {polarity: yes-is-safe}`` for such a guard. Chat mode passes the risk as
``chat_template_kwargs={"guardian_config": {"risk_name": ...}}`` (vLLM), one call per configured policy.
Codes are the risk names. There is no taxonomy file for Granite Guardian yet, so coverage cannot map them.
"""

from __future__ import annotations

import re

from ..protocol import Exchange, GuardInput, Request, Verdict
from . import register
from .base import Adapter, Settings, strip_specials, text_messages, two_level_logprob

RISKS = (
    "harm",
    "social_bias",
    "profanity",
    "sexual_content",
    "unethical_behavior",
    "violence",
    "jailbreak",
    "harm_engagement",
    "evasiveness",
    "groundedness",
    "relevance",
    "answer_relevance",
    "function_call",
)
_SCORE = re.compile(r"<score>\s*(.*?)\s*</score>", re.DOTALL)
_CONF = re.compile(r"\A<confidence>\s*(High|Low)\s*</confidence>\Z", re.IGNORECASE)


def parse_granite(raw: str, risk: str, *, logprobs=None, polarity: str = "yes-is-risk") -> Verdict:
    text = strip_specials(raw).strip()
    extra: dict = {"policy": risk}
    if "<score>" in text or "</score>" in text:
        found = _SCORE.findall(text)
        if len(found) != 1:
            return Verdict.error(raw, f"expected exactly one <score>...</score>, found {len(found)}", **extra)
        word = found[0].strip().lower()
        rest = _SCORE.sub("", re.sub(r"<think>.*?</think>", "", text, flags=re.DOTALL)).strip()
        if rest:
            return Verdict.error(raw, f"unexpected text outside <think> and <score>: {rest[:40]!r}", **extra)
    else:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            return Verdict.error(raw, "empty output", **extra)
        word = lines[0].lower()
        if len(lines) == 2 and (m := _CONF.match(lines[1])):
            extra["confidence"] = m.group(1).capitalize()
        elif len(lines) > 1:
            return Verdict.error(raw, "unexpected text after the Yes/No answer", **extra)
    if word not in ("yes", "no"):
        return Verdict.error(raw, f"expected 'Yes' or 'No', got {word[:40]!r}", **extra)
    present = (word == "yes") if polarity == "yes-is-risk" else (word == "no")
    scores: dict[str, float] = {}
    p = two_level_logprob(logprobs, "Yes", "No") if logprobs is not None else None
    if p is not None:
        scores[risk] = round(p if polarity == "yes-is-risk" else 1 - p, 6)
    return Verdict("unsafe" if present else "safe", (risk,) if present else (), scores, raw, None, extra)


@register
class GraniteGuardian(Adapter):
    name = "granite-guardian"
    family = "granite-guardian"
    taxonomy = "granite-guardian"
    modes = ("chat",)
    codes = RISKS
    single_call = False
    codes_are_taxonomy = False
    default_params = {"temperature": 0, "top_p": 1, "max_tokens": 20}
    description = "Granite Guardian 3.x/4.1: one risk per call via guardian_config, Yes/No or <score>; chat mode."

    def _policies(self, settings: Settings) -> tuple[str, ...]:
        return settings.policies or ("harm",)

    def template(self, settings: Settings) -> tuple[str, str | None]:
        return "hf-chat-template", None

    def requests(self, inp: GuardInput, settings: Settings) -> list[Request]:
        msgs = text_messages(inp, parts=settings.content_parts)
        return [
            Request(
                "chat",
                tuple(msgs),
                extra_body={"chat_template_kwargs": {"guardian_config": {"risk_name": r}}},
                policy=r,
            )
            for r in self._policies(settings)
        ]

    def parse(self, exchange: Exchange, request: Request, settings: Settings) -> Verdict:
        if exchange.finish_reason == "length" and "<think>" in exchange.raw and "</score>" not in exchange.raw:
            return Verdict.error(
                exchange.raw, "output truncated inside <think>; raise max_tokens", policy=request.policy
            )
        return parse_granite(
            exchange.raw,
            request.policy or "harm",
            logprobs=exchange.logprobs,
            polarity=str(settings.params.get("polarity", "yes-is-risk")),
        )
