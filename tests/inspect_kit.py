"""Running the real `inspect eval` offline on the shipped task file against inspect's mock model.

What inspect fetches at run time: its mock model counts tokens with tiktoken's o200k_base encoding, which
tiktoken downloads on first use. This makes that unnecessary: a sitecustomize on PYTHONPATH (test only)
registers a byte-level encoding under that name before inspect asks for it, so the counts in the log are
byte counts. Nothing else is fetched: where the test can (root, `unshare`), inspect runs in a network
namespace with no network at all."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from riskcards.exporters import inspect_dataset

TASK = Path(inspect_dataset.__file__).resolve().parents[1] / "interop" / "inspect_task.py"
OFFLINE_TOKENS = """
import tiktoken.registry
from tiktoken.core import Encoding
tiktoken.registry.ENCODINGS["o200k_base"] = Encoding(
    name="o200k_base", pat_str=r"\\S+|\\s+", mergeable_ranks={bytes([i]): i for i in range(256)}, special_tokens={})
"""


def eval_mock(dataset: Path, tmp_path: Path) -> Path:
    """`inspect eval` of the task file over ``dataset`` with mockllm/model; the one .eval log it wrote."""
    site = tmp_path / "site"
    site.mkdir(parents=True)
    (site / "sitecustomize.py").write_text(OFFLINE_TOKENS)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(TASK, work / "inspect_task.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "ANTHROPIC", "INSPECT_", "HF_"))} | {
        "PYTHONPATH": str(site),
        "HOME": str(tmp_path / "home"),
        "INSPECT_LOG_DIR": str(tmp_path / "logs"),
    }
    cmd = [str(Path(sys.executable).parent / "inspect"), "eval", "inspect_task.py", "-T", f"dataset={dataset}"]
    cmd += ["--model", "mockllm/model", "--log-dir", str(tmp_path / "logs"), "--display", "plain"]
    if os.geteuid() == 0 and shutil.which("unshare"):
        probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
        if probe.returncode == 0:
            cmd = ["unshare", "-n", *cmd]  # no network at all
    res = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    logs = sorted((tmp_path / "logs").glob("*.eval"))
    assert len(logs) == 1
    return logs[0]
