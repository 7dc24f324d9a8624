"""OpenAI's moderation endpoint (omni-moderation-*): one text per call, 13 categories with booleans and scores.

There is no conversation context: a prompt check sends the prompt, a response check sends the response
alone (recorded as ``extra.context = "none"``). Verdict: unsafe if ``flagged``; categories = the keys whose
boolean is true; scores = every non-null ``category_scores`` value; ``extra.model`` = the dated model that
answered. Malformed JSON, a missing ``results`` entry or an unknown category key is an error.
"""

from __future__ import annotations

import json

from ..protocol import Exchange, GuardInput, Request, Verdict
from . import register
from .base import Adapter, Settings

CODES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)


def parse_moderation(raw: str, codes: tuple[str, ...] = CODES) -> Verdict:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        return Verdict.error(raw, f"malformed JSON: {exc.msg} at character {exc.pos}")
    results = obj.get("results") if isinstance(obj, dict) else None
    if not isinstance(results, list) or not results or not isinstance(results[0], dict):
        return Verdict.error(raw, "no 'results' in the moderation response")
    res = results[0]
    flagged, cats, scores = res.get("flagged"), res.get("categories"), res.get("category_scores")
    if not isinstance(flagged, bool) or not isinstance(cats, dict) or not isinstance(scores, dict):
        return Verdict.error(raw, "a moderation result needs 'flagged', 'categories' and 'category_scores'")
    unknown = sorted(k for k in {*cats, *scores} if k not in codes)
    if unknown:
        return Verdict.error(raw, f"unknown moderation categories {unknown}")
    true = tuple(k for k in codes if cats.get(k) is True)
    clean = {k: float(v) for k, v in scores.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    extra = {"model": obj.get("model") if isinstance(obj.get("model"), str) else None, "context": "none"}
    if flagged and not true:
        return Verdict.error(raw, "flagged without any category set to true")
    return Verdict("unsafe" if flagged else "safe", true if flagged else (), clean, raw, None, extra)


@register
class OpenAIModeration(Adapter):
    name = "openai-moderation"
    family = "openai-moderation"
    taxonomy = "openai-moderation-omni"
    modes = ("moderation",)
    codes = CODES
    description = (
        "OpenAI's /v1/moderations (or any server speaking it): flagged, 13 categories, scores; no conversation context."
    )

    def requests(self, inp: GuardInput, settings: Settings) -> list[Request]:
        return [Request("moderation", prompt=inp.judged_text)]

    def parse(self, exchange: Exchange, request: Request, settings: Settings) -> Verdict:
        return parse_moderation(exchange.raw, self.codes)
