"""Llama Guard 3 (Llama-Guard-3-8B, -1B, -11B-Vision): S1-S14 (S5 = Defamation), Llama 3 header format."""

from __future__ import annotations

from . import register
from ._llama import TEMPLATE_HEADER, LlamaGuardAdapter

# Prompt-builder names (short forms for S3, S4, S11). The 1B and 11B-Vision models know only S1-S13:
# give them `categories: [S1, ..., S13]` in the guard config.
NAMES = {
    "S1": "Violent Crimes",
    "S2": "Non-Violent Crimes",
    "S3": "Sex Crimes",
    "S4": "Child Exploitation",
    "S5": "Defamation",
    "S6": "Specialized Advice",
    "S7": "Privacy",
    "S8": "Intellectual Property",
    "S9": "Indiscriminate Weapons",
    "S10": "Hate",
    "S11": "Self-Harm",
    "S12": "Sexual Content",
    "S13": "Elections",
    "S14": "Code Interpreter Abuse",
}


@register
class LlamaGuard3(LlamaGuardAdapter):
    name = "llama-guard-3"
    family = "llama-guard-3"
    taxonomy = "llama-guard-3"
    codes = tuple(NAMES)
    names = NAMES
    template_source = TEMPLATE_HEADER
    description = (
        "Llama Guard 3 (S1-S14) over an OpenAI-compatible server "
        "(vLLM, TGI, Ollama, llama.cpp), chat or completions mode."
    )
