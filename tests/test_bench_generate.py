"""The benchmarks' data generator writes a knowledge base that validates: a benchmark measures valid data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_generated_knowledge_base_validates(tmp_path: Path) -> None:
    out = tmp_path / "kb"
    gen = subprocess.run(
        [sys.executable, str(REPO / "bench" / "generate.py"), "120", str(out)], capture_output=True, text=True
    )
    assert gen.returncode == 0, gen.stderr
    assert len(list((out / "cards").glob("*.yaml"))) == 120
    res = subprocess.run(
        [sys.executable, "-m", "riskcards", "--root", str(out), "validate"], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "no problems" in res.stdout
