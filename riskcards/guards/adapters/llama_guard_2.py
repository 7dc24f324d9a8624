"""Llama Guard 2 (meta-llama/Meta-Llama-Guard-2-8B): S1-S11 (S5 = Specialized Advice), the [INST] wrapper."""

from __future__ import annotations

from . import register
from ._llama import TEMPLATE_INST_2, LlamaGuardAdapter

# Prompt-builder names (short forms for S3, S4, S10); LG2 codes differ from LG3's from S5 on.
NAMES = {
    "S1": "Violent Crimes",
    "S2": "Non-Violent Crimes",
    "S3": "Sex Crimes",
    "S4": "Child Exploitation",
    "S5": "Specialized Advice",
    "S6": "Privacy",
    "S7": "Intellectual Property",
    "S8": "Indiscriminate Weapons",
    "S9": "Hate",
    "S10": "Self-Harm",
    "S11": "Sexual Content",
}


@register
class LlamaGuard2(LlamaGuardAdapter):
    name = "llama-guard-2"
    family = "llama-guard-2"
    taxonomy = "llama-guard-2"
    codes = tuple(NAMES)
    names = NAMES
    template_source = TEMPLATE_INST_2
    description = "Llama Guard 2 (S1-S11) over an OpenAI-compatible server, chat or completions mode."
