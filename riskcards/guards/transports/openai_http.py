"""HTTP transports for OpenAI-compatible servers (vLLM, TGI, Ollama, llama.cpp) and OpenAI's moderation API.

* ``openai-chat``: ``POST {base}/chat/completions`` with the raw conversation; the server applies the model's
  chat template. Extra body fields (``chat_template_kwargs``) are passed through.
* ``openai-completions``: ``POST {base}/completions`` with a client-rendered prompt.
* ``openai-moderation``: ``POST {base}/moderations`` with ``{"model", "input"}``; the raw output is the body.

Decoding parameters are always sent explicitly (temperature 0, top_p 1, max_tokens), because vLLM otherwise
takes defaults from the model's generation_config.json. Timeouts, dropped connections, malformed bodies, 429
and 5xx are retried with exponential backoff, honouring ``Retry-After``; other 4xx are final. An API key is
read from the environment variable the config names, sent only in the Authorization header, and never put in
messages, logs or results. A server that answers with the ``X-RiskCards-Test-Double`` header is marked as a
test double: its verdicts are never recorded as live.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..protocol import Exchange, Request, TransportError
from . import TransportConfig, register
from .base import TransportBase

TEST_DOUBLE_HEADER = "x-riskcards-test-double"
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
# Parameters sent to the server; others (threshold, polarity, ...) are for the parser.
SENT_PARAMS = ("temperature", "top_p", "max_tokens", "seed", "top_k", "stop", "frequency_penalty", "presence_penalty")


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def error_message(status: int, reason: str, payload: bytes) -> str:
    """The server's own error text: vLLM ``{"object": "error", "message"}`` or OpenAI ``{"error": {"message"}}``."""
    text = payload.decode("utf-8", "replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        return text[:200] if text else reason
    if isinstance(body, dict):
        if isinstance(body.get("error"), dict) and body["error"].get("message"):
            return str(body["error"]["message"])[:300]
        if body.get("message"):
            return str(body["message"])[:300]
        if isinstance(body.get("error"), str):
            return body["error"][:300]
    return text[:200]


class HTTPTransport(TransportBase):
    """Shared connections, retries and probing for the three OpenAI-style transports. Thread-safe.

    Uses the standard library's http.client with one persistent (keep-alive) connection per worker thread:
    about a quarter of the CPU per request of a full-featured client, which matters at hundreds of requests
    a second. Requests are written in one segment with TCP_NODELAY, so no Nagle delay is added."""

    name = "openai-http"
    path = ""
    requires = ("base_url",)

    @classmethod
    def open(cls, config: TransportConfig, *, source: Any = None) -> HTTPTransport:
        key = config.api_key()
        if config.api_key_env and not key:
            raise TransportError(f"an API key is needed: set the environment variable {config.api_key_env}")
        return cls(
            config.base_url or "",
            api_key=key,
            api_key_env=config.api_key_env,
            timeout=config.timeout,
            retries=config.retries,
            backoff=config.backoff,
            concurrency=config.concurrency,
            logprobs=config.logprobs,
            test_double=config.test_double,
        )

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        api_key_env: str | None = None,
        timeout: float = 60.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        concurrency: int = 8,
        logprobs: int | None = None,
        test_double: bool = False,
        sleep=time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        try:  # urllib raises ValueError on malformed IPv6 brackets and bad ports
            parts = urlsplit(self.base_url)
            host, port = parts.hostname, parts.port
        except ValueError:
            host = port = parts = None
        if parts is None or parts.scheme not in ("http", "https") or not host:
            raise TransportError(f"base_url {base_url!r} is not an http(s) URL")
        self._scheme, self._host = parts.scheme, host
        self._port = port or (443 if parts.scheme == "https" else 80)
        self._prefix = parts.path.rstrip("/")
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.logprobs = logprobs
        self._sleep = sleep
        self._headers = {
            "User-Agent": "riskcards-guard-runner",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._local = threading.local()
        self._conns: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self.test_double = test_double
        self.runtime: str | None = None
        self.served: list[str] = []
        self.attempts = 0  # HTTP requests sent, retries included

    # ---- plumbing -----------------------------------------------------------------------------------

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._scheme == "https":
                conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=timeout, context=ssl.create_default_context()
                )
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def _request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        absolute: bool = False,
    ) -> tuple[int, str, http.client.HTTPMessage, bytes]:
        """One HTTP exchange on this thread's connection: (status, reason, headers, body bytes)."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        target = path if absolute else f"{self._prefix}/{path.lstrip('/')}"
        try:
            conn = self._connection(timeout or self.timeout)
            conn.request(method, target, body=data, headers=self._headers)
            resp = conn.getresponse()
            payload = resp.read()
        except BaseException:
            self._drop()
            raise
        if resp.will_close:
            self._drop()
        return resp.status, resp.reason, resp.headers, payload

    def _post(self, path: str, body: Mapping[str, Any]) -> tuple[dict[str, Any], str, bool, float]:
        """POST with retries. Returns (decoded JSON, body text, test-double flag, latency ms of the last try)."""
        attempt = 0
        last: str = ""
        while True:
            with self._lock:
                self.attempts += 1
            wait: float | None = None
            started = time.perf_counter()
            test_double = False
            try:
                status, reason, headers, payload = self._request("POST", path, body)
                test_double = headers.get(TEST_DOUBLE_HEADER) is not None
                if test_double:
                    self.test_double = True
                latency = (time.perf_counter() - started) * 1000
                if status == 200:
                    text = payload.decode("utf-8", "replace")
                    try:
                        data = json.loads(text)
                        if not isinstance(data, dict):
                            raise ValueError("not a JSON object")
                        return data, text, test_double, latency
                    except ValueError as exc:
                        last = f"malformed JSON in the response body ({exc})"
                elif status in RETRY_STATUS:
                    last = f"HTTP {status}: {error_message(status, reason, payload)}"  # scrubbed when stored
                    wait = retry_after_seconds(headers.get("retry-after"))
                else:
                    raise TransportError(
                        self._final_message(status, reason, payload, path), status=status, test_double=test_double
                    )
            except TimeoutError:
                last = f"no answer within {self.timeout:g} s (timeout)"
            except (OSError, http.client.HTTPException) as exc:
                last = f"connection failed: {type(exc).__name__}: {exc}"[:300]
            if attempt >= self.retries:
                raise TransportError(f"{last} (after {attempt + 1} attempts)", retryable=True, test_double=test_double)
            if wait is None:
                wait = min(self.max_backoff, self.backoff * (2**attempt)) * random.uniform(0.5, 1.0)
            self._sleep(min(wait, self.max_retry_after))
            attempt += 1

    def _final_message(self, status: int, reason: str, payload: bytes, path: str) -> str:
        from ..secrets import scrub

        msg = scrub(error_message(status, reason, payload), self.secrets())
        if status in (401, 403):
            where = f"${self.api_key_env}" if self.api_key_env else "the key"
            return f"HTTP {status}: the server refused the credentials; check {where} ({msg})"
        if status == 404:
            return f"HTTP 404 at {self._prefix}/{path}: {msg}; check base_url and model_name"
        return f"HTTP {status}: {msg}"

    def probe(self) -> dict[str, Any]:
        """GET {base}/models once: served model ids, test-double flag, runtime version where the server says."""
        info: dict[str, Any] = {"base_url": self.base_url}
        try:
            status, reason, headers, payload = self._request("GET", "models")
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"cannot reach {self.base_url}: {type(exc).__name__}: {exc}", retryable=True) from None
        self.test_double = self.test_double or headers.get(TEST_DOUBLE_HEADER) is not None
        if status == 200:
            try:
                data = json.loads(payload).get("data", [])
                self.served = [str(m.get("id")) for m in data if isinstance(m, dict) and m.get("id") is not None]
            except (ValueError, AttributeError):
                self.served = []
        elif status in (401, 403):
            raise TransportError(self._final_message(status, reason, payload, "models"), status=status)
        root = self._prefix[: -len("/v1")] if self._prefix.endswith("/v1") else self._prefix
        try:
            status, _reason, _headers, payload = self._request(
                "GET", f"{root}/version", timeout=min(self.timeout, 5.0), absolute=True
            )
            ver = json.loads(payload) if status == 200 else None
            if isinstance(ver, dict) and ver.get("version"):
                self.runtime = f"vllm {ver['version']}"
        except (OSError, http.client.HTTPException, ValueError):
            pass
        info.update(served=self.served, test_double=self.test_double, runtime=self.runtime)
        return info

    def secrets(self) -> tuple[str, ...]:
        auth = self._headers.get("Authorization", "")
        return (auth.removeprefix("Bearer "),) if auth else ()

    def describe(self) -> dict[str, Any]:
        return {
            "transport": self.name,
            "base_url": self.base_url,
            "runtime": self.runtime,
            "test_double": self.test_double,
        }

    def close(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            c.close()

    def _params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {k: params[k] for k in SENT_PARAMS if k in params}


@register
class ChatTransport(HTTPTransport):
    name = "openai-chat"
    modes = ("chat",)
    description = (
        "POST {base}/chat/completions: the server applies the model's chat template (vLLM, TGI, Ollama, llama.cpp)."
    )

    def send(self, request: Request, *, model: str, params: Mapping[str, Any]) -> Exchange:
        body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in request.messages], **self._params(params)}
        if self.logprobs:
            body.update(logprobs=True, top_logprobs=self.logprobs)
        body.update(request.extra_body)
        return _first_choice(*self._post("chat/completions", body), field="message")


@register
class CompletionsTransport(HTTPTransport):
    name = "openai-completions"
    modes = ("completions",)
    description = "POST {base}/completions with a client-rendered prompt."

    def send(self, request: Request, *, model: str, params: Mapping[str, Any]) -> Exchange:
        body: dict[str, Any] = {"model": model, "prompt": request.prompt, **self._params(params)}
        if self.logprobs:
            body["logprobs"] = self.logprobs
        body.update(request.extra_body)
        return _first_choice(*self._post("completions", body), field="text")


def _first_choice(data: Any, _text: str, test_double: bool, latency: float, *, field: str) -> Exchange:
    """The exchange for the first choice of an OpenAI-style answer: choices[0].message.content (chat)
    or choices[0].text (completions). A missing choice is a non-retryable transport error."""
    try:
        choice = data["choices"][0]
        content = choice["message"].get("content") if field == "message" else choice.get("text")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise TransportError(f"the response has no choices[0].{field}", status=200, test_double=test_double) from None
    return Exchange(
        raw=content if isinstance(content, str) else "",
        finish_reason=choice.get("finish_reason"),
        logprobs=choice.get("logprobs"),
        served_model=data.get("model"),
        test_double=test_double,
        latency_ms=latency,
    )


@register
class ModerationTransport(HTTPTransport):
    name = "openai-moderation"
    modes = ("moderation",)
    description = "POST {base}/moderations (OpenAI's moderation API); the raw output is the body."

    def send(self, request: Request, *, model: str, params: Mapping[str, Any]) -> Exchange:
        data, text, test_double, latency = self._post("moderations", {"model": model, "input": request.prompt})
        results = data.get("results")
        if not isinstance(results, list) or not results or not isinstance(results[0], dict):
            # the same as a chat answer with no choices: a 200 that is not an answer (error_kind 'response')
            raise TransportError("the response has no results[0]", status=200, test_double=test_double)
        return Exchange(raw=text, served_model=data.get("model"), test_double=test_double, latency_ms=latency)
