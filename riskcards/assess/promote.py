"""`riskcards assess promote ID ENTRY --card C`: a logged answer becomes an ``observed`` example on the card.

The example records the model under assessment, the date of the answer, and as its source the assessment, the
log entry and the decoding parameters; the system prompt goes into ``context``. The promoter chooses the
sensitivity: 'full', 'defanged' (with the redacted text, which replaces the output) or 'withheld' (with a
reason; no text is kept); without a choice it is 'unreviewed': the text is kept in the card file and stays off
the site, the index and every export until a reviewer sets one of the three. The card's version gets a minor
bump with a changelog line. The card file is edited as text (the example appended to ``examples``, the version
line replaced, a changelog line added), so its comments and layout stay; the result is validated with the
whole knowledge base and the file is put back as it was when anything is wrong. Only live answers are
promoted, never a test double's.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any

from .. import ids, terms
from ..paths import write_atomic
from ..validate.assessments import REDACTED


class PromoteError(Exception):
    pass


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def example_for(
    folder: Any, entry: Any, *, example_id: str, language: str, sensitivity: str, text: str | None, reason: str | None
) -> dict[str, Any]:
    a = folder.assessment
    params = ", ".join(f"{k}={v}" for k, v in sorted(entry.params.items())) or "server defaults"
    source = (
        f"RiskCards assessment '{a.id}', log entry {entry.id} (assessments/{a.id}/log/{entry.card}.jsonl); "
        f"{entry.target.transport if entry.target else 'unknown transport'}, decoding {params}"
    )
    prov: dict[str, Any] = {"kind": "observed", "model": a.scope.model, "date": entry.at[:10], "source": source}
    if entry.target and entry.target.model_name != a.scope.model:
        prov["model_name"] = entry.target.model_name
    ex: dict[str, Any] = {"id": example_id, "language": language, "provenance": prov, "sensitivity": sensitivity}
    msgs = [m for m in entry.messages if m.role != "system"]
    system = next((m.content for m in entry.messages if m.role == "system"), None)
    output = text if sensitivity == "defanged" else entry.output
    if sensitivity == "withheld":
        ex["withheld_reason"] = reason
    elif len(msgs) == 1 and msgs[0].role == "user":
        ex["prompt"], ex["output"] = msgs[0].content, output
    else:
        ex["turns"] = [{"role": m.role, "content": m.content} for m in msgs] + [
            {"role": "assistant", "content": output}
        ]
    if system and sensitivity != "withheld":
        ex["context"] = f"System prompt of the deployment: {system}"
    return ex


def _yaml_example(ex: dict[str, Any], indent: str) -> list[str]:
    pad = indent + "  "
    lines = [f"{indent}- id: {ex['id']}", f"{pad}language: {ex['language']}", f"{pad}provenance:"]
    lines += [f"{pad}  {k}: {_q(v)}" for k, v in ex["provenance"].items()]
    lines.append(f"{pad}sensitivity: {ex['sensitivity']}")
    for key in ("prompt", "output", "context", "withheld_reason"):
        if key in ex:
            lines.append(f"{pad}{key}: {_q(ex[key])}")
    if "turns" in ex:
        lines.append(f"{pad}turns:")
        for t in ex["turns"]:
            lines += [f"{pad}  - role: {t['role']}", f"{pad}    content: {_q(t['content'])}"]
    return lines


def _block(lines: list[str], key: str) -> tuple[int, int] | None:
    """(start, end) line indexes of a top-level key's block, end exclusive (trailing blank lines left out)."""
    start = next((i for i, ln in enumerate(lines) if re.match(rf"^{key}:(\s|$)", ln)), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#-"):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return start, end


def edit_card_text(text: str, ex: dict[str, Any], *, new_version: str, note: str, today: str) -> str:
    lines = text.split("\n")
    blk = _block(lines, "examples")
    if blk is None or re.match(r"^examples:\s*\[\]", lines[blk[0]]):
        if blk is not None:
            del lines[blk[0]]
            at = blk[0]
        else:
            at = len(lines) - (1 if lines and lines[-1] == "" else 0)
        lines[at:at] = ["examples:", *_yaml_example(ex, "  ")]
    else:
        start, end = blk
        item = next((ln for ln in lines[start + 1 : end] if ln.lstrip().startswith("- ")), "  - ")
        indent = item[: len(item) - len(item.lstrip())]
        lines[end:end] = _yaml_example(ex, indent)
    v = next(i for i, ln in enumerate(lines) if re.match(r"^version:", ln))
    lines[v] = f"version: {new_version}"
    entry = [f"  - version: {new_version}", f'    date: "{today}"', f"    note: {_q(note)}"]
    blk = _block(lines, "changelog")
    if blk is None:
        at = len(lines) - (1 if lines and lines[-1] == "" else 0)
        lines[at:at] = ["changelog:", *entry]
    elif re.match(r"^changelog:\s*\[\]", lines[blk[0]]):
        lines[blk[0] : blk[0] + 1] = ["changelog:", *entry]
    else:
        lines[blk[1] : blk[1]] = entry
    return "\n".join(lines)


def bump_minor(version: str) -> str:
    major, minor, _ = (int(x) for x in version.split("."))
    return f"{major}.{minor + 1}.0"


def promote(
    root: Path,
    kb: Any,
    folder: Any,
    entry_id: str,
    card_id: str,
    *,
    sensitivity: str = "unreviewed",
    text: str | None = None,
    reason: str | None = None,
    example_id: str | None = None,
    language: str = "en",
    today: str | None = None,
) -> tuple[Path, str]:
    """Add the example to the card; returns (card path, example id). Raises PromoteError."""
    from ..validate import validate

    entries = {e.id: e for e in folder.logs.get(card_id, [])}
    e = entries.get(entry_id)
    if e is None:
        known = [x.id for x in entries.values() if x.kind == "exchange"]
        raise PromoteError(f"no entry '{entry_id}' in log/{card_id}.jsonl{ids.did_you_mean(entry_id, known)}")
    if e.kind != "exchange" or e.output is None:
        raise PromoteError(
            f"entry '{entry_id}' is a {e.kind}{' without an answer' if e.kind == 'exchange' else ''}; "
            "promote an exchange that has an answer"
        )
    if e.target is None or e.target.source != "live":
        raise PromoteError(f"entry '{entry_id}' was answered by a test double; only live answers become examples")
    if sensitivity not in terms.SENSITIVITIES:
        raise PromoteError(f"sensitivity {sensitivity!r}: write {', '.join(terms.SENSITIVITIES)}")
    if sensitivity == "defanged" and (not text or REDACTED not in text):
        raise PromoteError("a defanged example needs --text: the output with removed detail marked '[redacted: what]'")
    if sensitivity == "withheld" and not reason:
        raise PromoteError("a withheld example needs --reason: why its text is not published")
    if sensitivity != "defanged" and text:
        raise PromoteError("--text is for defanged examples only")
    card = kb.cards.get(card_id)
    if card is None:
        raise PromoteError(f"unknown card '{card_id}'{ids.did_you_mean(card_id, kb.cards)}")
    example_id = example_id or f"assessed-{entry_id}"
    if any(x.id == example_id for x in card.examples):
        raise PromoteError(f"card '{card_id}' already has an example '{example_id}' (promoted before?)")
    today = today or _dt.date.today().isoformat()
    ex = example_for(
        folder, e, example_id=example_id, language=language, sensitivity=sensitivity, text=text, reason=reason
    )
    path = Path(root) / kb.paths[("card", card_id)]
    original = path.read_text(encoding="utf-8")
    new_version = bump_minor(card.version)
    note = f"Observed example {example_id} from assessment {folder.assessment.id}."
    write_atomic(path, edit_card_text(original, ex, new_version=new_version, note=note, today=today))
    problems = [p for p in validate(root).problems if p.path == kb.paths[("card", card_id)]]
    if problems:
        write_atomic(path, original)
        raise PromoteError("the card would not validate; it is unchanged:\n" + "\n".join(p.text() for p in problems))
    return path, example_id
