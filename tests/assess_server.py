"""A chat-model target on 127.0.0.1 that answers as an OpenAI-compatible server (vLLM, llama.cpp, Ollama) does.

Its control code (HTTP server, counting, fault injection, GET routes, shared faults) is ``fault_server``, shared
with ``guard_server``:

* ``GET /v1/models``, ``GET /version``;
* ``POST /v1/chat/completions`` -> ``choices[0].message.content``; ``POST /v1/completions`` -> ``choices[0].text``;
* replies come from **rules** ``(substring, reply)`` matched against the whole conversation (first match wins),
  else ``"Reply to: <the last user message>"``; an unknown model is a vLLM-style 404.

Faults (``server.inject(kind, times=1, match=None, retry_after="1", delay=2.0)``), consumed by matching
requests: the shared ones of ``fault_server`` (``timeout``, ``500``, ``503``, ``429`` with ``Retry-After``,
``malformed``, ``drop``) and ``truncated`` (a body shorter than its Content-Length, then the connection closes).

``announce=True`` (the default) sends ``X-RiskCards-Test-Double: 1`` on every answer, as a test double must;
``announce=False`` plays a real local server in a temporary knowledge base. ``GET /_stats`` returns request
counts (not counted itself). Standalone for the benchmark: ``python tests/assess_server.py --latency 0.05``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from fault_server import Fault, FaultServer, Handler

__all__ = ["Fault", "TargetServer"]


class TargetHandler(Handler):
    server_version = "target-test-double/0"

    def do_POST(self) -> None:
        server = self.server_
        body = self.read_body()
        if body is None:
            return
        if server.api_key is not None and self.headers.get("Authorization") != f"Bearer {server.api_key}":
            return self._vllm_error(401, "Incorrect API key provided.")
        text = _conversation(self.path, body)
        fault = server.take_fault(text)
        if fault is not None:
            if self.common_fault(fault):
                return
            if fault.kind == "truncated":
                self._send(200, b'{"id": "cmpl-1", "choices": [{"index": 0, "message": {"con', length=400)
                self.close_connection = True
                return
        if self.path not in ("/v1/chat/completions", "/v1/completions"):
            return self._send(404, {"detail": "Not Found"})
        if body.get("model") != server.model:
            return self._vllm_error(404, f"The model `{body.get('model')}` does not exist.")
        reply = server.reply_for(text)
        text = _last_user(self.path, body)
        if reply.startswith("Reply to: "):
            reply = f"Reply to: {text}"
        usage = {"prompt_tokens": len(text.split()), "completion_tokens": len(reply.split())}
        if self.path == "/v1/chat/completions":
            choice = {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
            obj = "chat.completion"
        else:
            choice = {"index": 0, "text": reply, "finish_reason": "stop"}
            obj = "text_completion"
        self._send(
            200,
            {
                "id": f"cmpl-{server.count}",
                "object": obj,
                "created": int(time.time()),
                "model": server.model,
                "choices": [choice],
                "usage": usage,
            },
        )


class TargetServer(FaultServer):
    """A chat model: replies come from ``rules`` (substring, reply), else 'Reply to: <last user message>'."""

    handler = TargetHandler

    def __init__(self, model: str = "meta-llama/Llama-3.1-8B-Instruct", **kw: Any) -> None:
        super().__init__(model, **kw)

    def reply_for(self, text: str) -> str:
        for needle, reply in self.rules:
            if needle in text:
                return reply
        return f"Reply to: {text}"


def _conversation(path: str, body: dict[str, Any]) -> str:
    """The text rules and faults match: every message of a chat request, or the completions prompt."""
    if path.endswith("/chat/completions"):
        return "\n".join(str(m.get("content", "")) for m in body.get("messages") or [])
    return str(body.get("prompt", ""))


def _last_user(path: str, body: dict[str, Any]) -> str:
    if path.endswith("/chat/completions"):
        users = [m.get("content", "") for m in body.get("messages") or [] if m.get("role") == "user"]
        return str(users[-1]) if users else ""
    return str(body.get("prompt", ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--model", default="meta-llama/Llama-3.1-8B-Instruct")
    ap.add_argument("--no-announce", action="store_true", help="do not send the test-double header")
    args = ap.parse_args()
    srv = TargetServer(args.model, latency=args.latency, port=args.port, record=False, announce=not args.no_announce)
    print(srv.url, flush=True)
    srv.serve()


if __name__ == "__main__":
    main()
