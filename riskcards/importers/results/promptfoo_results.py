"""promptfoo results files: the JSON that ``promptfoo eval -o results.json`` writes.

    {"evalId", "results": {"version", "timestamp", "results": [...], "stats"}, "config", "metadata":
     {"promptfooVersion", ...}}

Each entry of ``results.results`` is one test case run against one prompt and provider: ``prompt.raw`` is
what was sent (a chat prompt is JSON of messages), ``response.output`` the answer, ``success``/``score``/
``namedScores`` promptfoo's grading, ``testCase.metadata`` the RiskCards metadata of the ``promptfoo-jsonl``
and ``promptfoo-csv`` exports (``card``, ``example``). The ``echo`` provider is a test double.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...locate import Locator
from ...problems import Problem
from . import Result, ResultsError, Run, json_problem, scalar, text_of, wrong_tool

WHAT = "a promptfoo results file (promptfoo eval -o results.json)"
TEST_DOUBLES = {"echo"}


def _problem(shown: str, text: str, path: tuple, message: str) -> Problem:
    try:
        line, col = Locator(text).find(path)
    except Exception:  # a JSON text that the YAML locator cannot compose: the start of the file
        line, col = 1, 1
    return Problem(shown, line, col, message, "results")


def _messages(raw: Any) -> list[dict[str, str]]:
    if isinstance(raw, str):
        stripped = raw.strip()
        if stripped.startswith("["):
            try:
                msgs = json.loads(stripped)
            except json.JSONDecodeError:
                msgs = None
            if isinstance(msgs, list) and msgs and all(isinstance(m, dict) and "role" in m for m in msgs):
                return [{"role": str(m["role"]), "content": text_of(m.get("content"))} for m in msgs]
        return [{"role": "user", "content": raw}]
    return [{"role": "user", "content": text_of(raw)}]


def _dict(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _provider(r: dict) -> str:
    p = r.get("provider")
    if isinstance(p, dict):
        return str(p.get("id") or p.get("label") or "unknown")
    return str(p or "unknown")


def read(path: Path, shown: str) -> Run:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        first = text.split("\n", 1)[0]
        try:
            other = wrong_tool(json.loads(first)) if exc.msg == "Extra data" else None
        except json.JSONDecodeError:
            other = None
        if other:
            raise ResultsError(
                [Problem(shown, 1, 1, f"not {WHAT}: it looks like {other} output (--from {other})", "results")]
            ) from None
        raise ResultsError([json_problem(shown, exc, WHAT)]) from None
    res = data.get("results") if isinstance(data, dict) else None
    if not isinstance(res, dict) or not isinstance(res.get("results"), list):
        other = wrong_tool(data)
        said = f"; it looks like {other} output (--from {other})" if other and other != "promptfoo" else ""
        raise ResultsError([Problem(shown, 1, 1, f"not {WHAT}: no 'results.results' list{said}", "results")])
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    version = str(meta.get("promptfooVersion") or f"results format {res.get('version', '?')}")
    problems: list[Problem] = []
    results: list[Result] = []
    providers: set[str] = set()
    for i, r in enumerate(res["results"]):
        where = ("results", "results", i)
        if not isinstance(r, dict):
            problems.append(_problem(shown, text, where, f"result {i} is not an object"))
            continue
        tc: dict = _dict(r.get("testCase"))
        prompt = r.get("prompt")
        raw = prompt.get("raw") if isinstance(prompt, dict) else prompt
        if raw is None:
            problems.append(_problem(shown, text, where, f"result {i} has no 'prompt.raw' (what was sent)"))
            continue
        response: dict = _dict(r.get("response"))
        out = response.get("output")
        output = out if isinstance(out, str) or out is None else json.dumps(out, ensure_ascii=False)
        err = r.get("error") or response.get("error")
        md: dict = _dict(tc.get("metadata"))
        card = _str(md.get("card"))
        example = _str(md.get("example"))
        desc = _str(tc.get("description")) or ""
        if card is None and "/" in desc.split(":", 1)[0]:
            card, _, example = desc.split(":", 1)[0].partition("/")
        provider = _provider(r)
        providers.add(provider)
        scores: dict[str, Any] = {}
        if "success" in r:
            scores["pass"] = scalar(r.get("success"))
        if "score" in r:
            scores["score"] = scalar(r.get("score"))
        named = r.get("namedScores")
        if isinstance(named, dict):
            scores |= {str(k): scalar(v) for k, v in named.items()}
        latency = r.get("latencyMs")
        results.append(
            Result(
                sample=str(r.get("id") or f"{r.get('testIdx', i)}:{r.get('promptIdx', 0)}"),
                messages=_messages(raw),
                output=output,
                error=str(err) if err else None,
                card=card,
                example=example,
                scores=scores,
                latency_ms=float(latency) if isinstance(latency, int | float) and latency >= 0 else None,
                model_name=provider,
                test_double=provider in TEST_DOUBLES,
            )
        )
    if problems:
        raise ResultsError(problems)
    return Run(
        tool="promptfoo",
        tool_version=version,
        run=str(data.get("evalId")) if data.get("evalId") else None,
        model_name=", ".join(sorted(providers)) or "unknown",
        date=str(res.get("timestamp") or meta.get("evaluationCreatedAt") or meta.get("exportedAt") or "unknown"),
        test_double=bool(providers) and providers <= TEST_DOUBLES,
        results=results,
    )
