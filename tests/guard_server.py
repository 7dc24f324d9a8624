"""A test double of a vLLM OpenAI-compatible server and OpenAI's /v1/moderations, with fault injection.

It is a real HTTP/1.1 server on 127.0.0.1 (stdlib ``http.server``, one thread per connection, keep-alive)
that answers as vLLM and OpenAI do:

* ``GET /v1/models`` (vLLM's model list), ``GET /version``;
* ``POST /v1/chat/completions`` -> ``choices[0].message.content`` (Llama Guard 3 through the HF template
  answers with leading ``"\\n\\n"``; ``style="ollama"`` gives none), optional ``logprobs.content[].top_logprobs``;
* ``POST /v1/completions`` -> ``choices[0].text`` and completions-shaped ``logprobs``;
* ``POST /v1/moderations`` -> all 13 keys in ``categories``, ``category_scores`` and
  ``category_applied_input_types``;
* vLLM-style errors ``{"object": "error", "message", "type", "param", "code"}``: 400 for roles that do not
  alternate, 404 for an unknown model; OpenAI-style ``{"error": {...}}`` on /v1/moderations (401 without
  the expected key).

Every response carries ``X-RiskCards-Test-Double: 1``: the runner marks what it says as ``stub`` and will never
write it into checks/. Every request body is captured (``server.requests``) so tests can assert temperature,
max_tokens, roles, content shape and count requests.

Verdicts come from **replay rules**: ``(substring, raw output)`` pairs matched against the judged text
(the last message, the prompt, or the moderation input); the first rule that matches wins; default ``safe``.
Raw outputs are the public sample outputs of guard-models.md section 6.

Faults (``server.inject(kind, times=1, match=None, ...)``), consumed in order by matching requests:
``timeout`` (answer after ``delay`` s), ``500``, ``503``, ``429`` (with ``Retry-After``), ``malformed`` (200
with broken JSON), ``truncated`` (``"\\n\\nunsafe"`` with finish_reason ``length``), ``chatty``, ``drop``
(close the connection without answering), ``400``.

Run standalone for benchmarks: ``python tests/guard_server.py --latency 0.05`` prints its base URL, and
``GET /_stats`` returns request counts.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from fault_server import FaultServer, Handler

MODERATION_KEYS = (
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
IMAGE_KEYS = {"self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "violence", "violence/graphic"}


class GuardServer(FaultServer):
    """Start with ``start()`` (or as a context manager); ``url`` is the /v1 base URL."""

    def __init__(
        self,
        model: str = "meta-llama/Llama-Guard-3-8B",
        *,
        style: str = "vllm-lg3",
        moderation_model: str = "omni-moderation-2024-09-26",
        **kw: Any,
    ) -> None:
        self.style = style
        self.moderation_model = moderation_model
        super().__init__(model, **kw)

    def models_list(self) -> list[dict[str, Any]]:
        return [
            {
                "id": self.model,
                "object": "model",
                "created": 0,
                "owned_by": "vllm",
                "root": self.model,
                "parent": None,
                "max_model_len": 8192,
            }
        ]

    def verdict_for(self, text: str) -> str:
        for needle, raw in self.rules:
            if needle in text:
                return raw
        return "safe"


def judged_text(path: str, body: dict[str, Any]) -> str:
    if path.endswith("/chat/completions"):
        msgs = body.get("messages") or []
        parts = []
        for m in msgs:
            c = m.get("content")
            parts.append(
                c if isinstance(c, str) else " ".join(p.get("text", "") for p in c or [] if isinstance(p, dict))
            )
        return "\n".join(parts)
    if path.endswith("/completions"):
        return str(body.get("prompt", ""))
    if path.endswith("/moderations"):
        inp = body.get("input")
        return inp if isinstance(inp, str) else json.dumps(inp)
    return ""


def _logprob_positions(raw: str, p_unsafe: float) -> list[tuple[str, dict[str, float]]]:
    """(token, {candidate: logprob}) per generated position, with safe/unsafe at the verdict position."""
    lp_u, lp_s = math.log(max(p_unsafe, 1e-12)), math.log(max(1 - p_unsafe, 1e-12))
    out = []
    if raw.startswith("\n\n"):
        out.append(("\n\n", {"\n\n": -0.0001, "\n": -9.5}))
    head = raw.strip().split("\n")[0] if raw.strip() else ""
    out.append((head, {"unsafe": lp_u, "safe": lp_s, "Yes": lp_u, "No": lp_s}))
    return out


class GuardHandler(Handler):
    server_version = "vllm-test-double/0"

    def _openai_error(self, status: int, message: str, kind: str, code: str | None = None) -> None:
        self._send(status, {"error": {"message": message, "type": kind, "param": None, "code": code}})

    def do_POST(self) -> None:
        server = self.server_
        body = self.read_body()
        if body is None:
            return
        text = judged_text(self.path, body)
        fault = server.take_fault(text)
        if fault is not None:
            if self.common_fault(fault):
                return
            if fault.kind == "400":
                return self._vllm_error(400, "This model's maximum context length is 8192 tokens.", "BadRequestError")
            elif fault.kind == "401-echo":  # a server that quotes the request's credentials back
                auth = self.headers.get("Authorization", "")
                return self._openai_error(401, f"Invalid header Authorization: {auth}", "invalid_request_error")
            elif fault.kind == "no-choices":
                return self._send(200, {"id": "cmpl-1", "object": "chat.completion", "choices": []})
            elif fault.kind == "no-results":
                return self._send(200, {"id": "modr-1", "model": server.moderation_model})
        if self.path == "/v1/moderations":
            return self._moderation(body, text)
        if self.path not in ("/v1/chat/completions", "/v1/completions"):
            return self._send(404, {"detail": "Not Found"})
        if body.get("model") != server.model:
            return self._vllm_error(404, f"The model `{body.get('model')}` does not exist.", "NotFoundError")
        if self.path == "/v1/chat/completions":
            roles = [m.get("role") for m in body.get("messages") or []]
            if any(r != ("user" if i % 2 == 0 else "assistant") for i, r in enumerate(roles)):
                return self._vllm_error(
                    400, "Conversation roles must alternate user/assistant/user/assistant/...", "BadRequestError"
                )
        raw, finish = server.verdict_for(text), "stop"
        if fault is not None and fault.kind == "truncated":
            raw, finish = "unsafe", "length"
        elif fault is not None and fault.kind == "chatty":
            raw = "Sorry, that cannot be assessed."
        if server.style == "vllm-lg3" and self.path == "/v1/chat/completions" and not raw.startswith("{"):
            raw = "\n\n" + raw
        p_unsafe = 0.97 if raw.strip().lower().startswith(("unsafe", "yes")) else 0.02
        usage = {"prompt_tokens": len(text.split()), "completion_tokens": 3, "total_tokens": len(text.split()) + 3}
        if self.path == "/v1/chat/completions":
            logprobs = None
            if body.get("logprobs"):
                logprobs = {
                    "content": [
                        {
                            "token": t,
                            "logprob": c[max(c, key=c.get)] if t not in c else c[t],
                            "bytes": None,
                            "top_logprobs": [{"token": k, "logprob": v, "bytes": None} for k, v in c.items()],
                        }
                        for t, c in _logprob_positions(raw, p_unsafe)
                    ]
                }
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": raw, "tool_calls": []},
                "logprobs": logprobs,
                "finish_reason": finish,
                "stop_reason": None,
            }
            self._send(
                200,
                {
                    "id": f"chatcmpl-{server.count}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": server.model,
                    "choices": [choice],
                    "usage": usage,
                },
            )
        else:
            logprobs = None
            if body.get("logprobs"):
                pos = _logprob_positions(raw, p_unsafe)
                logprobs = {
                    "tokens": [t for t, _ in pos],
                    "token_logprobs": [c.get(t, -0.01) for t, c in pos],
                    "top_logprobs": [c for _, c in pos],
                    "text_offset": [0] * len(pos),
                }
            choice = {"index": 0, "text": raw, "logprobs": logprobs, "finish_reason": finish, "stop_reason": None}
            self._send(
                200,
                {
                    "id": f"cmpl-{server.count}",
                    "object": "text_completion",
                    "created": int(time.time()),
                    "model": server.model,
                    "choices": [choice],
                    "usage": usage,
                },
            )

    def _moderation(self, body: dict[str, Any], text: str) -> None:
        server = self.server_
        if server.api_key is not None and self.headers.get("Authorization") != f"Bearer {server.api_key}":
            return self._openai_error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        flagged_keys = [k for needle, k in server.rules if needle in text and k in MODERATION_KEYS]
        cats = {k: k in flagged_keys for k in MODERATION_KEYS}
        scores = {k: (0.9731 if k in flagged_keys else 0.0012) for k in MODERATION_KEYS}
        applied = {k: (["text", "image"] if k in IMAGE_KEYS else ["text"]) for k in MODERATION_KEYS}
        result = {
            "flagged": bool(flagged_keys),
            "categories": cats,
            "category_scores": scores,
            "category_applied_input_types": applied,
        }
        self._send(200, {"id": f"modr-{server.count}", "model": server.moderation_model, "results": [result]})


GuardServer.handler = GuardHandler


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--model", default="meta-llama/Llama-Guard-3-8B")
    ap.add_argument("--rule", action="append", default=[], help="SUBSTRING=RAW (RAW may use \\n)")
    args = ap.parse_args()
    rules = [(r.split("=", 1)[0], r.split("=", 1)[1].replace("\\n", "\n")) for r in args.rule]
    srv = GuardServer(args.model, latency=args.latency, rules=rules, port=args.port, record=False)
    print(srv.url, flush=True)
    srv.serve()


if __name__ == "__main__":
    main()
