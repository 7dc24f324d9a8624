"""Llama Guard 4 (meta-llama/Llama-Guard-4-12B): S1-S14 (S14 text only), message content as text parts."""

from __future__ import annotations

from . import register
from ._llama import TEMPLATE_HEADER, LlamaGuardAdapter
from .llama_guard_3 import NAMES


@register
class LlamaGuard4(LlamaGuardAdapter):
    name = "llama-guard-4"
    family = "llama-guard-4"
    taxonomy = "llama-guard-4"
    codes = tuple(NAMES)
    names = NAMES
    template_source = TEMPLATE_HEADER
    description = (
        "Llama Guard 4 (S1-S14) over an OpenAI-compatible server; its chat template wants content as text parts "
        "(set content_parts: true). Completions mode renders the Llama 3 header format; confirm it against the "
        "server's /tokenize on the first real run."
    )
