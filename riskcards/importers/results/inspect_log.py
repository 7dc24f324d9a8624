"""inspect-ai eval logs (``.eval`` archives or ``.json``), read through inspect's own ``read_eval_log``.

Each sample (and epoch) is one result: the conversation up to the model's last reply is what was sent, that
reply is the output, the scorers' values are the tool's scores. The sample's RiskCards metadata (``card``,
``example``; the ``inspect`` export and ``riskcards/interop/inspect_task.py`` carry it) names the card; a
sample id ``card/example`` does too. inspect's ``mockllm`` models are test doubles.
"""

from __future__ import annotations

import json
from pathlib import Path

from ...problems import Problem
from . import Result, ResultsError, Run, json_problem, scalar, text_of, wrong_tool

WHAT = "an inspect eval log"


def _messages(sample) -> tuple[list[dict[str, str]], str | None]:
    msgs = list(sample.messages or [])
    if not msgs:
        inp = sample.input
        msgs_in = (
            [{"role": "user", "content": inp}]
            if isinstance(inp, str)
            else [{"role": m.role, "content": text_of(m.content)} for m in inp]
        )
        return msgs_in, None
    last = max((i for i, m in enumerate(msgs) if m.role == "assistant"), default=None)
    if last is None:
        return [{"role": m.role, "content": text_of(m.content)} for m in msgs], None
    sent = [{"role": m.role, "content": text_of(m.content)} for m in msgs[:last]]
    return sent, text_of(msgs[last].content)


def read(path: Path, shown: str) -> Run:
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        raise ResultsError(
            [Problem(shown, 1, 1, "reading inspect eval logs needs inspect-ai (pip install inspect-ai)", "results")]
        ) from None
    raw = path.read_bytes()
    if not raw.startswith(b"PK"):  # not an .eval archive: a JSON log, checked here to locate what is wrong
        try:
            data = json.loads(raw.decode("utf-8", "replace"))
        except json.JSONDecodeError as exc:
            raise ResultsError([json_problem(shown, exc, WHAT)]) from None
        other = wrong_tool(data)
        if other not in (None, "inspect") or not isinstance(data, dict) or "eval" not in data:
            said = f"; it looks like {other} output (--from {other})" if other and other != "inspect" else ""
            raise ResultsError([Problem(shown, 1, 1, f"not {WHAT}: no 'eval' header{said}", "results")])
    try:
        log = read_eval_log(str(path))
    except Exception as exc:  # inspect raises zip, JSON and validation errors of several kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ResultsError([Problem(shown, 1, 1, f"not {WHAT} that inspect can read: {first}", "results")]) from None
    ev = log.eval
    version = (ev.packages or {}).get("inspect_ai") or "unknown"
    params = {}
    cfg = ev.model_generate_config
    if cfg is not None:
        for k, v in cfg.model_dump(exclude_none=True).items():
            if isinstance(v, str | int | float | bool):
                params[k] = v
    results = []
    for s in log.samples or []:
        sent, output = _messages(s)
        md = s.metadata or {}
        card = md.get("card") if isinstance(md.get("card"), str) else None
        example = md.get("example") if isinstance(md.get("example"), str) else None
        if card is None and isinstance(s.id, str) and s.id.count("/") == 1:
            card, example = s.id.split("/")
        if output is None and s.output is not None and s.output.completion:
            output = s.output.completion
        stop = None
        if s.output is not None and s.output.choices:
            stop = s.output.choices[0].stop_reason
        results.append(
            Result(
                sample=f"{s.id}#{s.epoch}",
                messages=sent,
                output=output,
                error=(s.error.message if s.error is not None else None),
                card=card,
                example=example,
                scores={k: scalar(v.value) for k, v in (s.scores or {}).items()},
                at=str(s.started_at) if getattr(s, "started_at", None) else None,
                finish_reason=stop,
            )
        )
    return Run(
        tool="inspect",
        tool_version=version,
        run=ev.eval_id or ev.run_id,
        model_name=ev.model,
        date=str(ev.created),
        test_double=str(ev.model).startswith("mockllm/"),
        results=results,
        params=params,
    )
