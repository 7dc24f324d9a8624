"""pre-commit for other repositories: a repository that holds only its own cards validates against the
taxonomies, vocabulary, models and scenarios shipped with the package (riskcards.baselayer), and its own
records add to or override them. The hooks of .pre-commit-hooks.yaml are run as pre-commit runs them: their
entry commands, and the real `pre-commit run` with this repository as the hook repository (pre-commit clones
it and pip-installs it, wheel and package data included, into an environment of its own)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from test_lifecycle import CARD, GIT_ENV, Repo, card_text

from riskcards import baselayer

HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
ENTRY = {h["id"]: h["entry"].split() for h in HOOKS}
REL = f"cards/{CARD}.yaml"
BAD = "llama-guard-3:S6\n    relation: broader", "llama-guard-3:S66\n    relation: broader"

MODEL = """\
id: our-support-model
name: Our support model
kind: language-model
provider: Example Org
family: Example
open_weights: false
"""


def other_repo(dest: Path, branch: str = "trunk") -> Repo:
    """A repository with only its own cards, committed on ``branch``; no remote."""
    dest.mkdir(parents=True)
    repo = Repo(dest)
    repo.write(REL, card_text())
    repo.git("init", "-q", "-b", branch)
    repo.commit("our cards")
    return repo


def hook(repo: Repo, hook_id: str, *files: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """A hook's entry command as pre-commit runs it (files appended when the hook takes them)."""
    return subprocess.run(
        [sys.executable, "-m", "riskcards", *ENTRY[hook_id][1:], *files],
        cwd=repo.root,
        env={**GIT_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_base_layer_is_this_repositorys_records():
    for sub in ("taxonomies", "taxonomies/crosswalks", "scenarios", "models", "vocab"):
        own = sorted(p.name for p in (REPO / sub).glob("*.yaml"))
        assert own and sorted(p.name for p in (baselayer.BASE_DIR / sub).glob("*.yaml")) == own


def test_a_repository_with_only_cards_validates_against_the_base_layer(tmp_path):
    repo = other_repo(tmp_path / "ours")
    proc = hook(repo, "riskcards-validate", REL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no problems" in proc.stdout
    # located problems, in the card, for what the base layer does not have
    repo.edit(REL, *BAD)
    proc = hook(repo, "riskcards-validate", REL)
    line, col = repo.pos(REL, "llama-guard-3:S66", 0)
    assert proc.returncode == 1
    assert f"{REL}:{line}:{col}: 'S66' is not a code of llama-guard-3" in proc.stdout, proc.stdout
    assert "<riskcards>" not in proc.stdout  # nothing to say about the shipped records
    # from a sub-folder too
    proc = subprocess.run(
        [sys.executable, "-m", "riskcards", "validate"],
        cwd=repo.root / "cards",
        env=GIT_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "'S66' is not a code of llama-guard-3" in proc.stdout


def test_own_records_add_to_and_override_the_base_layer(tmp_path):
    repo = other_repo(tmp_path / "ours")
    # add: a model of our own, named by an observed example
    repo.write("models/our-support-model.yaml", MODEL)
    repo.edit(
        REL,
        "      kind: illustrative\n      author: RiskCards tests",
        '      kind: observed\n      model: our-support-model\n      date: "2026-11-01"\n'
        "      source: Our own red-teaming session",
    )
    proc = hook(repo, "riskcards-validate", REL, "models/our-support-model.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # override: our own customer-support-bot scenario replaces the shipped one (same file name, same id)
    scenario = yaml.safe_load((REPO / "scenarios" / "customer-support-bot.yaml").read_text())
    scenario["name"] = "Our customer support bot"
    repo.write("scenarios/customer-support-bot.yaml", yaml.safe_dump(scenario, sort_keys=False))
    from riskcards.validate import validate

    result = validate(repo.root)
    assert result.ok, [p.text() for p in result.problems]
    assert result.kb.scenarios["customer-support-bot"].name == "Our customer support bot"
    assert "our-support-model" in result.kb.models and "llama-3.1-8b-instruct" in result.kb.models
    assert "weidinger-2021" in result.kb.taxonomies and result.kb.vocab is not None
    # a knowledge base can turn the layer off: then the card's references are unknown
    repo.write("knowledge-base.yaml", "base: false\n")
    proc = hook(repo, "riskcards-validate", REL)
    assert proc.returncode == 1 and "unknown taxonomy 'llama-guard-3'" in proc.stdout


def test_the_lifecycle_hook_finds_the_base_on_a_branch_with_no_remote(tmp_path):
    repo = other_repo(tmp_path / "ours")  # committed on trunk: no main, no master, no remote
    repo.git("switch", "-q", "-c", "topic", "--track", "trunk")
    repo.edit(REL, "Some of them do not exist", "Several of them do not exist")
    repo.commit("reworded")
    proc = hook(repo, "riskcards-lifecycle")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "changed since trunk but its version is still 1.0.0" in proc.stdout
    # with no tracked branch either, the base pre-commit names in a pre-push hook
    repo.git("branch", "--unset-upstream")
    assert hook(repo, "riskcards-lifecycle").returncode == 0  # HEAD alone: nothing uncommitted
    base = repo.git("rev-parse", "trunk").strip()
    proc = hook(repo, "riskcards-lifecycle", env={"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": "HEAD"})
    assert proc.returncode == 1 and f"changed since {base} but its version is still 1.0.0" in proc.stdout


def _hook_repository(dest: Path) -> str:
    """This checkout's package as a git repository pre-commit can clone (a commit of the working tree, so
    uncommitted work is what gets tested)."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy(REPO / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for sub in ("riskcards", "taxonomies", "vocab", "models", "scenarios"):
        shutil.copytree(REPO / sub, dest / sub, symlinks=True, ignore=ignore)
    hook_repo = Repo(dest)
    hook_repo.git("init", "-q", "-b", "main")
    hook_repo.commit("hooks")
    return hook_repo.git("rev-parse", "HEAD").strip()


@pytest.mark.slow
def test_pre_commit_runs_this_repositorys_hook_in_a_repository_of_cards(tmp_path):
    exe = shutil.which("pre-commit", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if exe is None:
        pytest.fail("pre-commit is not installed: `pip install -e .[test]` installs it")
    rev = _hook_repository(tmp_path / "riskcards")
    repo = other_repo(tmp_path / "ours")
    repo.write(
        ".pre-commit-config.yaml",
        f"repos:\n  - repo: {tmp_path / 'riskcards'}\n    rev: {rev}\n    hooks:\n      - id: riskcards-validate\n",
    )
    repo.commit("pre-commit")
    env = {**GIT_ENV, "PRE_COMMIT_HOME": str(tmp_path / "pc"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(
            [exe, "run", "--files", REL], cwd=repo.root, env=env, capture_output=True, text=True, timeout=900
        )

    proc = run()  # pre-commit installs the package (a wheel, package data included) into its own environment
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "riskcards validate" in proc.stdout and "Passed" in proc.stdout
    envs = list((tmp_path / "pc").glob("repo*/py_env-*/lib/python*/site-packages/riskcards/data/base/vocab"))
    assert envs and (envs[0] / "harm-types.yaml").is_file() and not envs[0].is_symlink()
    repo.edit(REL, *BAD)
    repo.git("add", REL)
    proc = run()
    line, col = repo.pos(REL, "llama-guard-3:S66", 0)
    assert proc.returncode == 1 and "Failed" in proc.stdout
    assert f"{REL}:{line}:{col}: 'S66' is not a code of llama-guard-3" in proc.stdout, proc.stdout


def test_the_wheel_ships_the_base_layer(tmp_path):
    """pre-commit and pip install the package as a wheel: the base layer's links become files in it."""
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO), "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    names = zipfile.ZipFile(next(tmp_path.glob("riskcards-*.whl"))).namelist()
    for sub in ("taxonomies", "taxonomies/crosswalks", "scenarios", "models", "vocab"):
        own = {p.name for p in (REPO / sub).glob("*.yaml")}
        shipped = {n.rsplit("/", 1)[1] for n in names if n.rsplit("/", 1)[0] == f"riskcards/data/base/{sub}"}
        assert shipped == own, sub
