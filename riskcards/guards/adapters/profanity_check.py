"""Profanity / offensive-language classifier, fully offline on CPU: the alt-profanity-check package.

alt-profanity-check (PyPI, MIT) ships a TF-IDF + calibrated linear SVM inside its wheel; nothing is
downloaded. It detects swearing, insults and abusive wording, and nothing else: not harm categories, not
threats phrased politely, not jailbreaks. Its one category is ``profanity`` (taxonomies/profanity-check.yaml).
It is never a substitute for a safety guard such as Llama Guard.

The text judged is the prompt (target 'prompt') or the response alone (target 'response'). The raw output
is P(offensive) printed with 6 decimals; the verdict is unsafe when it reaches the threshold (0.5).
"""

from __future__ import annotations

import math
from typing import Literal

from ..protocol import Exchange, GuardInput, Request, Verdict
from . import register
from .base import Adapter, Settings

CODE = "profanity"


def parse_probability(raw: str, threshold: float = 0.5) -> Verdict:
    try:
        p = float(raw.strip())
    except ValueError:
        return Verdict.error(raw, f"expected a probability, got {raw.strip()[:40]!r}")
    if not math.isfinite(p) or not 0.0 <= p <= 1.0:
        return Verdict.error(raw, f"probability {raw.strip()!r} is outside [0, 1]")
    label: Literal["safe", "unsafe"] = "unsafe" if p >= threshold else "safe"
    return Verdict(label, (CODE,) if label == "unsafe" else (), {CODE: p}, raw, None, {"context": "none"})


@register
class ProfanityCheck(Adapter):
    name = "profanity-check"
    family = "alt-profanity-check"
    taxonomy = "profanity-check"
    modes = ("python",)
    codes = (CODE,)
    default_params = {"threshold": 0.5}
    description = "Offline CPU profanity/offensive-language classifier (alt-profanity-check); not a safety guard."

    def requests(self, inp: GuardInput, settings: Settings) -> list[Request]:
        return [Request("python", prompt=inp.judged_text)]

    def parse(self, exchange: Exchange, request: Request, settings: Settings) -> Verdict:
        return parse_probability(exchange.raw, float(settings.params.get("threshold", 0.5)))

    # The python transport calls these.
    @staticmethod
    def load():
        """(classify(text) -> raw output, revision, runtime). Revision and runtime come from the installed files
        without importing scikit-learn; the model is loaded on the first call. Raises ImportError without the extra."""
        import hashlib
        import importlib.metadata as md
        import importlib.util
        from pathlib import Path

        spec = importlib.util.find_spec("profanity_check")
        if spec is None or not spec.origin:
            raise ImportError("alt-profanity-check is not installed", name="alt-profanity-check")
        data = Path(spec.origin).parent / "data"
        digests = [
            f"{f}:{hashlib.sha256((data / f).read_bytes()).hexdigest()}" for f in ("model.joblib", "vectorizer.joblib")
        ]
        revision = f"alt-profanity-check=={md.version('alt-profanity-check')} " + " ".join(digests)
        runtime = f"scikit-learn {md.version('scikit-learn')}"
        predict = []

        def classify(text: str) -> str:
            if not predict:
                from profanity_check import predict_prob

                predict.append(predict_prob)
            return f"{float(predict[0]([text])[0]):.6f}"

        return classify, revision, runtime
