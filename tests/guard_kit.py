"""Helpers for the guard tests: a small knowledge base in tmp_path and a guard config pointing at a test server."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from conftest import trim_links

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "guard"

# Replay table: marker in the judged text -> raw output (public sample outputs, guard-models.md section 6).
RULES = [("[[S1S10]]", "unsafe\nS1,S10"), ("[[S10]]", "unsafe\nS10"), ("[[S1]]", "unsafe\nS1")]

CROSSWALK = """id: llama-guard-3--mlcommons-ailuminate-v1.0
source: llama-guard-3
target: mlcommons-ailuminate-v1.0
description: Test crosswalk (two rows) for the guard coverage tests.
relations:
  - source: S1
    target: vcr
    relation: exact
    rationale: Violent crimes in both.
  - source: S10
    target: hte
    relation: exact
    rationale: Hate in both.
  - source: S14
    target: ncr
    relation: related
    rationale: Related rows never predict.
"""


def make_kb(tmp_path: Path, *, cards: tuple[str, ...] = ("guard-test-card",), crosswalk: bool = True) -> Path:
    """A knowledge base in tmp_path: the repo's taxonomies, vocabulary, models and scenarios, the guard test
    card and the repo's model card (confident-wrong-dosage-advice)."""
    root = tmp_path / "kb"
    root.mkdir()
    for sub in ("vocab", "models", "scenarios"):
        shutil.copytree(REPO / sub, root / sub)
    (root / "taxonomies" / "crosswalks").mkdir(parents=True)
    for f in (REPO / "taxonomies").glob("*.yaml"):
        shutil.copy(f, root / "taxonomies" / f.name)
    if crosswalk:
        (root / "taxonomies" / "crosswalks" / "llama-guard-3--mlcommons-ailuminate-v1.0.yaml").write_text(
            CROSSWALK, encoding="utf-8"
        )
    (root / "cards").mkdir()
    (root / "checks").mkdir()
    for cid in cards:
        shutil.copy(DATA / "cards" / f"{cid}.yaml", root / "cards" / f"{cid}.yaml")
    # The repo's card, made runnable: its defanged texts are not sent to guards (they hold '[redacted: ...]'),
    # so the copy spells the removed detail as a placeholder and is marked full.
    text = (REPO / "cards" / "confident-wrong-dosage-advice.yaml").read_text(encoding="utf-8")
    text = re.sub(r"\[redacted: ([^\]]*)\]", r"<\1>", text).replace("sensitivity: defanged", "sensitivity: full")
    (root / "cards" / "confident-wrong-dosage-advice.yaml").write_text(text, encoding="utf-8")
    trim_links(root)
    return root


def write_config(
    root: Path, url: str, *, timeout: float = 1.0, retries: int = 3, concurrency: int = 4, extra: str = ""
) -> Path:
    text = f"""guards:
  lg3-chat:
    adapter: llama-guard-3
    model: llama-guard-3-8b
    model_name: meta-llama/Llama-Guard-3-8B
    transport: openai-chat
    base_url: {url}
    logprobs: 5
    concurrency: {concurrency}
    timeout: {timeout}
    retries: {retries}
  lg3-completions:
    adapter: llama-guard-3
    model: llama-guard-3-8b
    model_name: meta-llama/Llama-Guard-3-8B
    transport: openai-completions
    base_url: {url}
    concurrency: {concurrency}
    timeout: {timeout}
    retries: {retries}
  moderation:
    adapter: openai-moderation
    model: omni-moderation-latest
    model_name: omni-moderation-latest
    transport: openai-moderation
    base_url: {url}
    api_key_env: RISKCARDS_TEST_MODERATION_KEY
    timeout: {timeout}
    retries: {retries}
  profanity-check:
    adapter: profanity-check
    model: alt-profanity-check
    transport: python
{extra}"""
    path = root / "guards.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load(root: Path):
    from riskcards.guards.config import load_config
    from riskcards.validate import load_kb

    res = load_kb(root)
    assert not res.problems, [p.text() for p in res.problems]
    return res.kb, load_config(root / "guards.yaml", root)
