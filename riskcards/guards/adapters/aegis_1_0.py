"""Aegis 1.0 (NVIDIA, PEFT adapters on LlamaGuard-7b): O1-O13 in the Llama Guard 1 [INST] format.

NVIDIA's own prompt (NeMo-Curator ``format_aegis``) carries the policy text of each category; the built-in
template here renders names only, like the Llama Guard builder's default. For results comparable with
NVIDIA's, put their exact prompt in a template file (``template_file`` in the guard config, with $agent_type,
$categories and $conversations); its hash is recorded either way. NVIDIA's parser accepts exactly one code
after 'unsafe'; this one also accepts a comma-separated list, each code checked against O1-O13.
"""

from __future__ import annotations

from . import register
from ._llama import TEMPLATE_INST_1, LlamaGuardAdapter

NAMES = {
    "O1": "Violence",
    "O2": "Sexual",
    "O3": "Criminal Planning/Confessions",
    "O4": "Guns and Illegal Weapons",
    "O5": "Controlled/Regulated Substances",
    "O6": "Suicide and Self Harm",
    "O7": "Sexual (minor)",
    "O8": "Hate/Identity Hate",
    "O9": "PII/Privacy",
    "O10": "Harassment",
    "O11": "Threat",
    "O12": "Profanity",
    "O13": "Needs Caution",
}


@register
class Aegis10(LlamaGuardAdapter):
    name = "aegis-1.0"
    family = "aegis-1.0"
    taxonomy = "aegis-1.0"
    codes = tuple(NAMES)
    names = NAMES
    template_source = TEMPLATE_INST_1
    name_suffix = "."
    default_params = {"temperature": 0, "top_p": 1, "max_tokens": 100}
    description = (
        "Aegis 1.0 (O1-O13) in the Llama Guard 1 format over an OpenAI-compatible server (vLLM with --enable-lora)."
    )
