"""garak report JSONL (``garak.<run>.report.jsonl``), in the format garak 0.17 writes (garak/command.py,
garak/attempt.py ``Attempt.as_dict``, garak/evaluators/base.py): one JSON object a line, told apart by
``entry_type``:

    start_run setup   the configuration, flattened ("plugins.target_type", "plugins.target_name", ...)
    init              {"garak_version", "start_time", "run"}
    attempt           {"uuid", "seq", "status", "probe_classname", "prompt": {"turns": [{"role",
                       "content": {"text", ...}}]}, "outputs": [{"text", ...} | null], "detector_results":
                       {detector: [score per output]}, ...}; written when probed (status 1) and again when
                       the detectors have run (status 2): the last one of each uuid counts
    eval, completion, digest, ...   summaries, not needed here

Each output of an attempt is one result. A probe of garak's ``lmrc`` module carries the tag
``risk-cards:lmrc:<snake_case of the class>``, which resolves to the card with that ``lmrc-`` alias.
Detector scores are garak's own (1.0: the detector fired). garak's ``test`` generators are test doubles.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ...problems import Problem
from . import Result, ResultsError, Run, json_problem, scalar, text_of

WHAT = "a garak report JSONL line"


def lmrc_tag(probe: str) -> str | None:
    """garak's risk-cards tag of an lmrc probe (``lmrc.SlurUsage`` -> ``risk-cards:lmrc:slur_usage``)."""
    module, _, cls = probe.rpartition(".")
    if module.rsplit(".", 1)[-1] != "lmrc" or not cls:
        return None
    return "risk-cards:lmrc:" + re.sub(r"(?<!^)(?=[A-Z])", "_", cls).lower()


def read(path: Path, shown: str) -> Run:
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    problems: list[Problem] = []
    setup: dict[str, Any] = {}
    init: dict[str, Any] = {}
    attempts: dict[str, tuple[int, dict]] = {}
    seen_any = False
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            if n == 1 and line.lstrip().startswith("{") and exc.msg.startswith("Expecting"):
                # one JSON document over several lines: not JSONL (a promptfoo results file, a JSON log)
                problems.append(
                    Problem(shown, 1, 1, "not garak report JSONL: one JSON document over several lines", "results")
                )
                break
            problems.append(json_problem(shown, exc, WHAT, line_offset=n - 1))
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("entry_type"), str):
            hint = ""
            if isinstance(rec, dict) and ("evalId" in rec or "results" in rec):
                hint = "; it looks like a promptfoo results file (--from promptfoo)"
            elif isinstance(rec, dict) and ("eval" in rec or "samples" in rec):
                hint = "; it looks like an inspect log (--from inspect)"
            elif isinstance(rec, dict) and ("vars" in rec or "messages" in rec):
                hint = "; it looks like an export of RiskCards, not a garak report"
            problems.append(Problem(shown, n, 1, f"not {WHAT}: no 'entry_type'{hint}", "results"))
            if not seen_any:
                break  # the first line is not garak's: say so once
            continue
        seen_any = True
        kind = rec["entry_type"]
        if kind == "start_run setup":
            setup = rec
        elif kind == "init":
            init = rec
        elif kind == "attempt":
            uuid = rec.get("uuid")
            if not isinstance(uuid, str) or not isinstance(rec.get("probe_classname"), str):
                problems.append(Problem(shown, n, 1, "attempt without 'uuid' or 'probe_classname'", "results"))
                continue
            prev = attempts.get(uuid)
            if prev is None or (rec.get("status") or 0) >= (prev[1].get("status") or 0):
                attempts[uuid] = (n, rec)
    if not problems and not init:
        problems.append(
            Problem(
                shown,
                1,
                1,
                "no 'init' entry (garak_version, start_time, run): not a garak report, or its start is missing",
                "results",
            )
        )
    if problems:
        raise ResultsError(problems)
    results: list[Result] = []
    for uuid, (n, rec) in attempts.items():
        prompt = rec.get("prompt")
        turns = prompt.get("turns") if isinstance(prompt, dict) else None
        if not isinstance(turns, list):
            problems.append(Problem(shown, n, 1, f"attempt {uuid} has no 'prompt.turns'", "results"))
            continue
        messages = [
            {"role": str(t.get("role", "user")), "content": text_of(t.get("content"))}
            for t in turns
            if isinstance(t, dict)
        ]
        outputs = rec.get("outputs") if isinstance(rec.get("outputs"), list) else []
        found = rec.get("detector_results")
        detectors: dict = found if isinstance(found, dict) else {}
        probe = rec["probe_classname"]
        for i, out in enumerate(outputs or [None]):
            scores = {}
            for det, vals in detectors.items():
                if isinstance(vals, list) and i < len(vals):
                    scores[str(det)] = scalar(vals[i])
            results.append(
                Result(
                    sample=f"{uuid}#{i}",
                    messages=messages,
                    output=text_of(out) if out is not None else None,
                    error=None if out is not None else "garak recorded no output",
                    card=lmrc_tag(probe),
                    scores={"probe": probe, **scores},
                )
            )
    if problems:
        raise ResultsError(problems)
    ttype = str(setup.get("plugins.target_type") or setup.get("plugins.model_type") or "")
    tname = str(setup.get("plugins.target_name") or setup.get("plugins.model_name") or "")
    model = f"{ttype}:{tname}" if ttype and tname else (tname or ttype or "unknown")
    return Run(
        tool="garak",
        tool_version=str(init.get("garak_version") or setup.get("_config.version") or "unknown"),
        run=str(init["run"]) if init.get("run") else None,
        model_name=model,
        date=str(init.get("start_time") or "unknown"),
        test_double=ttype.split(".")[0] == "test",
        results=results,
    )
