"""Llama Guard 1 (meta-llama/LlamaGuard-7b): O1-O6, the [INST] wrapper, "for <ROLE>" instructions."""

from __future__ import annotations

from . import register
from ._llama import TEMPLATE_INST_1, LlamaGuardAdapter

# Category names as the reference prompt builder writes them (builder order, not the model card's prose order).
NAMES = {
    "O1": "Violence and Hate",
    "O2": "Sexual Content",
    "O3": "Criminal Planning",
    "O4": "Guns and Illegal Weapons",
    "O5": "Regulated or Controlled Substances",
    "O6": "Self-Harm",
}


@register
class LlamaGuard1(LlamaGuardAdapter):
    name = "llama-guard-1"
    family = "llama-guard-1"
    taxonomy = "llama-guard-1"
    codes = tuple(NAMES)
    names = NAMES
    template_source = TEMPLATE_INST_1
    name_suffix = "."
    description = "Llama Guard 1 (O1-O6) over an OpenAI-compatible server, chat or completions mode."
