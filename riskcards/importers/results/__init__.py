"""Other tools' results, read into one neutral shape (``Run`` of ``Result``) for ``riskcards assess import``.

One module per tool, each with ``read(path) -> Run``:

    inspect    inspect-ai eval logs (.eval or .json), read through inspect's own ``read_eval_log``
    promptfoo  the JSON results file of ``promptfoo eval -o results.json``
    garak      garak's report JSONL (``garak.<run>.report.jsonl``)

A file that is not what ``--from`` says, or is truncated or malformed, raises ``ResultsError`` with located
problems (``path:line:col: message``), never a traceback. Turning a ``Run`` into assessment log entries is
``riskcards.assess.imported``.
"""

from __future__ import annotations

import importlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...problems import Problem

TOOLS = {"inspect": "inspect_log", "promptfoo": "promptfoo_results", "garak": "garak_report"}


@dataclass
class Result:
    """One sample, test case or attempt as the tool recorded it."""

    sample: str
    """The tool's id of it (with the epoch, provider or output number where there are several)."""
    messages: list[dict[str, str]]
    """The conversation sent to the model, ending with the prompt (roles system, user, assistant, tool)."""
    output: str | None
    error: str | None = None
    card: str | None = None
    """The card it probes, where the tool carried RiskCards' metadata (or a garak tag: risk-cards:lmrc:...)."""
    example: str | None = None
    scores: dict[str, Any] = field(default_factory=dict)
    at: str | None = None
    latency_ms: float | None = None
    model_name: str | None = None
    """The model as the tool names it, where it differs per result (promptfoo providers)."""
    finish_reason: str | None = None
    test_double: bool | None = None
    """Answered by a test double, where the tool says so per result (otherwise the run's ``test_double``)."""


@dataclass
class Run:
    """One results file of one tool."""

    tool: str
    tool_version: str
    run: str | None
    model_name: str
    date: str
    test_double: bool
    """The model that answered is the tool's own test double (inspect's mockllm, promptfoo's echo, garak's test
    generators): such output never goes into a knowledge base's assessments/."""
    results: list[Result]
    params: dict[str, Any] = field(default_factory=dict)


class ResultsError(Exception):
    """The file cannot be imported; ``problems`` say where and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def read(tool: str, path: Path, shown: str | None = None) -> Run:
    """The results in ``path`` as ``tool`` wrote them. Raises ResultsError, located."""
    if tool not in TOOLS:
        raise ValueError(f"unknown tool {tool!r}; one of {', '.join(TOOLS)}")
    path = Path(path)
    shown = shown or str(path)
    if not path.is_file():
        raise ResultsError([Problem(shown, 1, 1, "no such file", "results")])
    module = importlib.import_module(f".{TOOLS[tool]}", __name__)
    return module.read(path, shown)


def scalar(v: Any) -> str | int | float | bool | None:
    """A score as a log-line scalar: NaN and infinities become None, lists and mappings JSON text."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)


def text_of(content: Any) -> str:
    """The text of a message content in the shapes the tools use (a string, or a list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict) and isinstance(p.get("text"), str):
                parts.append(p["text"])
        return "\n".join(parts)
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return content["text"]
    return str(content)


def json_problem(shown: str, exc: json.JSONDecodeError, what: str, line_offset: int = 0) -> Problem:
    truncated = exc.msg.startswith(("Expecting", "Unterminated")) and exc.pos >= len(exc.doc.rstrip()) - 1
    hint = " (the file ends early: truncated?)" if truncated else ""
    return Problem(shown, exc.lineno + line_offset, exc.colno, f"not {what}: {exc.msg}{hint}", "results")


def wrong_tool(data: Any) -> str | None:
    """Which other tool a parsed document looks like it came from, for a helpful message."""
    if isinstance(data, dict):
        if "entry_type" in data:
            return "garak"
        if "evalId" in data or (
            "results" in data and isinstance(data.get("results"), dict) and "stats" in data["results"]
        ):
            return "promptfoo"
        if "eval" in data and "samples" in data or "version" in data and "eval" in data:
            return "inspect"
        if "format" in data and str(data.get("format", "")).startswith("riskcards"):
            return "riskcards export"
    return None
