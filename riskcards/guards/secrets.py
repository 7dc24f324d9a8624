"""Secrets never stored: API keys and bearer tokens are scrubbed from every string of a guard record.

A server may echo the request's ``Authorization`` header in an error body (a 401 that quotes it, say); that
text would otherwise land in ``parse_error`` or ``raw`` in checks/<guard>.jsonl, then in the index and the
published database. ``scrub`` replaces

* the value of every environment variable whose name says it holds a secret (``*KEY*``, ``*TOKEN*``,
  ``*_SECRET``, ``*_PASSWORD``, ``*_CREDENTIALS``, as a word of the name), and any value passed in explicitly
  (the runner passes the key it sent);
* anything shaped like a bearer token or an API key: ``Bearer <token>``, ``Authorization: <value>``,
  ``sk-...``, ``hf_...``, ``ghp_...``, ``xox?-...``, ``AKIA...``, and ``api_key=...``-style assignments.

Scrubbing runs when a record is written (runner and `guard import`) and again when checks/ is read (index,
coverage), so a key committed before this existed never reaches the database; ``find`` lets validate report it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

MARK = "[secret removed]"
_ENV_NAME = re.compile(r"(^|_)(API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)(_|$)", re.IGNORECASE)
_MIN_LEN = 8
_PATTERNS = (
    # "Authorization: Bearer abc", "authorization": "Basic abc", Authorization=abc
    re.compile(
        r"""(?i)(authorization["']?\s*[:=]\s*["']?)(?!(?:(?:bearer|basic|token)\s+)?\[secret removed\])"""
        r"""(?:(?:bearer|basic|token)\s+)?[^\s"',;]+"""
    ),
    re.compile(r"(?i)(\bbearer\s+)(?!\[secret removed\])[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(
        r"""(?i)((?:api[_-]?key|access[_-]?token|secret|password|x-api-key)["']?\s*[:=]\s*["']?)"""
        r"""(?!\[secret removed\])[^\s"',;]{6,}"""
    ),
    re.compile(r"()\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}"),
    re.compile(r"()\b(?:hf|ghp|gho|ghs|github_pat|glpat|xox[abpr])[_-][A-Za-z0-9_-]{16,}"),
    re.compile(r"()\bAKIA[0-9A-Z]{16}\b"),
)


def env_secrets() -> set[str]:
    """Values of environment variables whose names say they hold a secret (long enough to be one)."""
    return {v for k, v in os.environ.items() if _ENV_NAME.search(k) and len(v) >= _MIN_LEN}


def scrub(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with every secret value in ``known`` or the environment, and every key-shaped string, replaced."""
    for value in sorted({*known, *env_secrets()}, key=len, reverse=True):
        if value and len(value) >= _MIN_LEN and value in text:
            text = text.replace(value, MARK)
    for pat in _PATTERNS:
        text = pat.sub(lambda m: m.group(1) + MARK, text)
    return text


def scrub_data(data: Any, known: Iterable[str] = ()) -> Any:
    """Every string in a JSON-like structure (keys included) scrubbed."""
    known = tuple(known)
    if isinstance(data, str):
        return scrub(data, known) if data else data
    if isinstance(data, dict):
        return {scrub_data(k, known): scrub_data(v, known) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [scrub_data(v, known) for v in data]
    return data


def find(data: Any) -> list[str]:
    """The JSON paths of strings in ``data`` (values and keys) that hold something shaped like a secret (values
    never shown; a key that holds one is shown as the mark)."""
    out: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, str):
            if node and scrub(node) != node:
                out.append(path or ".")
        elif isinstance(node, dict):
            for k, v in node.items():
                if isinstance(k, str) and k and scrub(k) != k:  # a key holding a secret; its path would show it
                    out.append(f"{path}.{MARK}" if path else MARK)
                    continue
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(data, "")
    return out
