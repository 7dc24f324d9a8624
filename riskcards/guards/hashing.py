"""Input hashes and cache keys (reference: guard-models.md section 5).

* The **input** of a check is the exact conversation sent for an example and target, as a list of
  ``{"role", "content"}`` messages. Its hash is ``sha256(canonical_json({"target", "messages"}))``: no Unicode
  normalisation and no stripping, because guards see whitespace. Editing an example changes the hash, so
  old verdicts stop counting instead of silently still applying.
* The **cache key** hashes everything that determines a verdict and nothing about the run (time, host,
  latency): guard id, served model, revision, transport, template hash, parameters, target, input hash.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..models import Example


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def example_messages(example: Example, target: str) -> list[dict[str, str]] | None:
    """The conversation a guard is given for ``example`` and ``target``, or None when there is none.

    Single-turn examples give ``[user]`` (prompt) or ``[user, assistant]`` (response). Multi-turn examples
    give the turns up to the last user turn (prompt) or up to the last assistant turn (response). Withheld
    examples have no text and give None, as do targets the example lacks (a response without an output)."""
    if example.sensitivity == "withheld":
        return None
    if example.turns:
        turns = [{"role": t.role, "content": t.content} for t in example.turns]
        want = "user" if target == "prompt" else "assistant"
        last = max((i for i, t in enumerate(turns) if t["role"] == want), default=None)
        if last is None or (target == "response" and not any(t["role"] == "user" for t in turns[:last])):
            return None
        return turns[: last + 1]
    if example.prompt is None:
        return None
    if target == "prompt":
        return [{"role": "user", "content": example.prompt}]
    if target == "response" and example.output is not None:
        return [{"role": "user", "content": example.prompt}, {"role": "assistant", "content": example.output}]
    return None


REDACTED = re.compile(r"\[redacted\b", re.IGNORECASE)
"""The marker of defanged text (``[redacted: what]``). A guard never judges such a text: it would judge the
marker, not the risk. Pairs whose judged text holds it are *not runnable*; expectations on them stay as
documentation and never count as flagged or missed."""


def judged_text(messages: list[dict[str, str]], target: str) -> str:
    """The text a guard judges in a conversation: the last user turn (prompt) or last assistant turn (response)."""
    want = "user" if target == "prompt" else "assistant"
    return next((m["content"] for m in reversed(messages) if m["role"] == want), "")


def runnable(example: Example, target: str) -> bool:
    """Whether a guard can be run on ``example`` for ``target``: there is a text, and it holds no redaction."""
    messages = example_messages(example, target)
    return messages is not None and not REDACTED.search(judged_text(messages, target))


def input_sha256(messages: list[dict[str, str]], target: str) -> str:
    return sha256_text(canonical_json({"target": target, "messages": messages}))


def current_input_sha256(example: Example, target: str) -> str | None:
    """The input hash of an example as it is now, for ``target`` 'prompt' or 'response' (None: nothing to send).

    A stored verdict counts for an example only while its ``example.input_sha256`` equals this value."""
    if target not in ("prompt", "response"):
        raise ValueError(f"target must be 'prompt' or 'response', not {target!r}")
    messages = example_messages(example, target)
    return None if messages is None else input_sha256(messages, target)


def cache_key(
    *,
    guard_id: str,
    model_name: str,
    revision: str | None,
    transport: str,
    template_sha256: str | None,
    params: Mapping[str, Any],
    target: str,
    input_hash: str,
) -> str:
    """``sha256:<hex>`` over everything that determines the verdict (section 5 of the guard reference)."""
    body = {
        "guard": guard_id,
        "model": model_name,
        "revision": revision,
        "transport": transport,
        "template": template_sha256,
        "params": dict(params),
        "target": target,
        "input_sha256": input_hash,
    }
    return "sha256:" + sha256_text(canonical_json(body))


def result_key(result: Any) -> str:
    """The cache key a stored GuardResult should carry, recomputed from its own fields."""
    g, e = result.guard, result.example
    return cache_key(
        guard_id=g.id,
        model_name=g.model_name,
        revision=g.revision,
        transport=g.transport,
        template_sha256=g.template_sha256,
        params=g.params,
        target=e.target,
        input_hash=e.input_sha256,
    )
