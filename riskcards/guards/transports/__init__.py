"""Transports: how a formatted request reaches a guard and its raw output comes back. Only these do I/O.

``openai-chat``, ``openai-completions``, ``openai-moderation`` (HTTP, riskcards/guards/transports/openai_http.py),
``local-transformers`` (a local model folder) and ``python`` (an in-process classifier such as the offline
profanity check). ``MODES`` says which request mode each transport carries.
"""

from __future__ import annotations

MODES = {
    "openai-chat": ("chat",),
    "openai-completions": ("completions",),
    "openai-moderation": ("moderation",),
    "local-transformers": ("chat", "completions"),
    "python": ("python",),
}
NAMES = tuple(MODES)
