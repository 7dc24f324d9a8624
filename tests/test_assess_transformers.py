"""An assessment whose target is a real (tiny) transformers model in a local folder: run, rerun, promote.

The model is the one the guard tests build (``make_tiny_guard``: hand-set weights, answers "safe", no
download). Skipped when torch or transformers are not installed (`pip install 'riskcards[transformers]'`).
"""

from __future__ import annotations

import json

import pytest
from assess_kit import cli, kb

pytest.importorskip("torch")
pytest.importorskip("transformers")

from test_guard_transformers import make_tiny_guard  # noqa: E402

CARD = "capitulating-under-user-pushback"


def test_a_local_transformers_target_end_to_end(tmp_path):
    model_dir = make_tiny_guard(tmp_path / "tiny-model")
    root = kb(tmp_path)
    cli(
        root,
        "assess",
        "new",
        "--scenario",
        "medical-question-answering",
        "--model",
        "llama-3.1-8b-instruct",
        "--id",
        "local",
        "--transport",
        "local-transformers",
        "--model-path",
        str(model_dir),
    )
    folder = root / "assessments" / "local"
    text = (folder / "assessment.yaml").read_text().replace("max_tokens: 512", "max_tokens: 4")
    (folder / "assessment.yaml").write_text(text, encoding="utf-8")
    proc = cli(root, "assess", "run", "local", "--card", CARD)
    assert "3 sent (3 answered, 0 failed" in proc.stdout and "test double" not in proc.stdout
    entries = [json.loads(x) for x in (folder / "log" / f"{CARD}.jsonl").read_text().splitlines()]
    assert all(e["output"].startswith("safe") for e in entries)
    t = entries[0]["target"]
    assert t["transport"] == "local-transformers" and t["host"] == "local" and t["source"] == "live"
    assert t["revision"].startswith("sha256:") and "transformers" in t["runtime"]
    assert "3 already logged, 0 sent" in cli(root, "assess", "run", "local", "--card", CARD).stdout
    cli(root, "assess", "promote", "local", entries[0]["id"], "--card", CARD)
    ids = cli(root, "query", "--model", "llama-3.1-8b-instruct", "-f", "ids").stdout.split()
    assert CARD in ids
    assert cli(root, "validate").returncode == 0
