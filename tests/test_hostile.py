"""Issue 16, "Input that breaks validation": a generated hostile corpus, and one test per class of failure.

The promises, held for every input: no traceback, bounded time (subprocess timeouts, not timing
assertions), memory under 512 MB (address-space limit on a subprocess), every problem a single
`path:line:col: message` line with no raw control character, and no forged line, in every output format.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import BASE_CARD, REPO, make_kb
from hostile_corpus import FORGED, LEGITIMATE, base, card_variants, dump, type_confusion

from riskcards.problems import Problem, render
from riskcards.validate import validate

LINE = re.compile(r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]+:\d+:\d+: [^\x00-\x1f\x7f-\x9f\u2028\u2029]+$")
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
MEMORY = 512 * 1024 * 1024


def _assert_well_formed(problems: list[Problem], checked: int) -> None:
    text = render(problems, "text", checked).split("\n")
    for line in text[:-1]:
        assert LINE.match(line), f"not one located line: {line!r}"
        assert not line.startswith(FORGED)
    github = render(problems, "github", checked).split("\n") if problems else []
    for line in github:
        assert line.startswith("::error file=") and not RAW_CONTROL.search(line), line
        assert "%0A" not in line and "%0D" not in line  # GitHub would show those as a second line
    as_json = render(problems, "json", checked)
    assert not RAW_CONTROL.search(as_json)
    data = json.loads(as_json)
    assert all(p["path"] != "cards/forged.yaml" for p in data["problems"])


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _run(root: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "riskcards", "validate", "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limit_memory,
        env={**os.environ, "RAYON_NUM_THREADS": "1"},
    )


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """One knowledge base holding the whole corpus (but for the vocabulary, of which there is one)."""
    root = make_kb(tmp_path_factory.mktemp("hostile") / "kb")
    files: dict[str, str] = {}
    for folder, new_id, text in type_confusion():
        (root / folder / f"{new_id}.yaml").write_text(text, encoding="utf-8")
        files[f"{folder}/{new_id}.yaml"] = "type-confusion"
    for suffix, text in card_variants():
        stem = f"{BASE_CARD}-{suffix}"
        (root / "cards" / f"{stem}.yaml").write_text(text.replace(f"id: {BASE_CARD}", f"id: {stem}", 1), "utf-8")
        files[f"cards/{stem}.yaml"] = suffix
    return root, files


def test_corpus_is_large_and_covers_every_family(corpus_root):
    _root, files = corpus_root
    assert len(files) >= 2000
    families = {re.sub(r"-\d.*$", "", f) for f in files.values()}
    for family in (
        "type-confusion",
        "ctl-value",
        "ctl-key",
        "ctl-url",
        "forge-key",
        "forge-enum",
        "url",
        "nan-value",
        "nan-key",
        "bigint",
        "bigchangelog",
        "deep-flow",
        "complex-key-list",
        "alias-depth",
        "alias-fanout",
        "many-keys",
    ):
        assert family in families, family


def test_every_hostile_input_gets_located_single_line_problems(corpus_root):
    root, files = corpus_root
    result = validate(root)  # raises on any traceback
    _assert_well_formed(result.problems, result.checked)
    by_file = {p.path for p in result.problems}
    for shown, family in files.items():
        if family.startswith(("ctl-", "forge-", "url-", "nan-value", "nan-key", "bigint-4301", "bigint-5000")):
            assert shown in by_file, f"{shown} ({family}) passed validation"


def test_every_vocabulary_confusion_is_answered(tmp_path):
    vocab = yaml.safe_load((REPO / "vocab" / "harm-types.yaml").read_text(encoding="utf-8"))
    from hostile_corpus import CONFUSERS, _paths, _set

    root = make_kb(tmp_path / "kb")
    target = root / "vocab" / "harm-types.yaml"
    for path in list(_paths(vocab))[:60]:
        for value in CONFUSERS[:4]:
            data = json.loads(json.dumps(vocab))
            _set(data, path, value)
            target.write_text(dump(data), encoding="utf-8")
            result = validate(root)
            _assert_well_formed(result.problems, result.checked)


def test_sample_as_subprocesses_under_a_memory_limit(corpus_root, tmp_path):
    """A sample through the real command, in a process limited to 512 MB of address space, with timeouts."""
    root, files = corpus_root
    heavy = [s for s, f in files.items() if f.startswith(("alias-", "deep-", "many-", "bigint-2", "forge-"))]
    sample = sorted({*sorted(heavy)[:12], *sorted(files)[::400]})
    for shown in sample:
        one = make_kb(tmp_path / shown.replace("/", "_"), cards=())
        shutil.copy(root / shown, one / shown)
        for fmt in ("text", "github"):
            proc = _run(one, "--format", fmt)
            assert "Traceback" not in proc.stderr, (shown, proc.stderr[-2000:])
            assert proc.returncode in (0, 1), (shown, proc.returncode, proc.stderr[-2000:])
            lines = proc.stdout.splitlines()
            assert not any(ln.startswith(FORGED) for ln in lines)
            if fmt == "text":
                assert all(LINE.match(ln) for ln in lines[:-1]), lines[:3]


def test_alias_fanout_of_a_megabyte_is_a_located_error_within_the_memory_bound(kb_root):
    big = "y" * 400_000
    (kb_root / "cards" / "bomb.yaml").write_text(
        f"a: &a '{big}'\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b]\n",
        encoding="utf-8",
    )
    (kb_root / "cards" / "bomb2.yaml").write_text(
        "a: &a {"
        + ", ".join(f"k{i}: '{'v' * 200}'" for i in range(3000))
        + "}\n"
        + "b: ["
        + ", ".join(["*a"] * 1000)
        + "]\n",
        encoding="utf-8",
    )
    proc = _run(kb_root, timeout=120)
    assert "Traceback" not in proc.stderr and proc.returncode == 1, proc.stderr[-2000:]
    assert re.search(r"^cards/bomb\.yaml:[1-9]\d*:\d+: aliases expand", proc.stdout, re.M), proc.stdout
    assert re.search(r"^cards/bomb2\.yaml:2:\d+: aliases expand", proc.stdout, re.M), proc.stdout


def test_control_characters_are_refused_and_never_echoed(kb_root):
    card = (kb_root / "cards" / f"{BASE_CARD}.yaml").read_text(encoding="utf-8")
    (kb_root / "cards" / f"{BASE_CARD}.yaml").write_text(
        card.replace("\ntitle:", '\nbell: "\\a\\e[31m"\ntitle:', 1).replace(
            "\nsummary:", '\nreviewers: ["a\\x85b"]\nsummary:', 1
        ),
        encoding="utf-8",
    )
    result = validate(kb_root)
    texts = [p.text() for p in result.problems]
    assert any("control character U+0007" in t for t in texts), texts
    assert any("control character U+0085" in t for t in texts), texts
    assert not any(RAW_CONTROL.search(t) for t in texts)
    assert any("\\x1b[31m" in t or "bell" in t for t in texts)


def test_newlines_in_keys_and_file_names_forge_no_line(kb_root):
    card = (kb_root / "cards" / f"{BASE_CARD}.yaml").read_text(encoding="utf-8")
    (kb_root / "cards" / f"{BASE_CARD}.yaml").write_text(card + f'"x\\n{FORGED}": 1\n', encoding="utf-8")
    (kb_root / "cards" / "evil\nx.yaml").write_text("id: evil\n", encoding="utf-8")
    (kb_root / "cards" / "ansi\x1b[31m.yaml").write_text("id: ansi\n", encoding="utf-8")
    for fmt in ("text", "github", "json"):
        proc = _run(kb_root, "--format", fmt)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert FORGED not in [ln[: len(FORGED)] for ln in proc.stdout.splitlines()]
        assert not RAW_CONTROL.search(proc.stdout)
        assert "%0A" not in proc.stdout
    text = _run(kb_root).stdout.splitlines()
    assert any(ln.startswith("cards/ansi\\x1b[31m.yaml:1:1: ") for ln in text), text


def test_malformed_changelog_items_never_raise(kb_root):
    path = kb_root / "cards" / f"{BASE_CARD}.yaml"
    data = base("card")
    for changelog in (
        [None],
        ["text"],
        [{"version": "1.0.0"}],
        [{"version": "x.y", "date": "2024-01-01", "note": "n"}],
        [{"version": 5, "date": None}],
        [[]],
        {"a": 1},
        "no",
    ):
        path.write_text(dump({**data, "changelog": changelog}), encoding="utf-8")
        result = validate(kb_root)
        assert any(p.path.startswith("cards/") for p in result.problems), changelog


def test_a_version_of_thousands_of_digits_is_answered(kb_root):
    path = kb_root / "cards" / f"{BASE_CARD}.yaml"
    original = path.read_text(encoding="utf-8")
    huge = "9" * 5000
    for version in (f"'{huge}.0.0'", huge):
        text = re.sub(r"(?m)^version: .*$", f"version: {version}", original)
        path.write_text(text, encoding="utf-8")
        problems = validate(kb_root).problems  # no ValueError (4,300-digit limit) is the promise
        if not version.startswith("'"):  # a number too large to hold, located on its line
            assert problems and all(p.line > 1 for p in problems if p.path.startswith("cards/")), problems


@pytest.mark.parametrize("url", ["http://[", "http://a]b.org/", "https://[zz/", "https://example.org/\x00"])
def test_malformed_urls_are_problems_not_tracebacks(url):
    from riskcards.validate import url_problem

    assert url_problem(url)


def test_escaped_nul_in_a_url_is_refused(kb_root):
    path = kb_root / "cards" / f"{BASE_CARD}.yaml"
    path.write_text(dump({**base("card"), "references": [{"title": "t", "url": "https://ex.org/a\x00b"}]}), "utf-8")
    problems = validate(kb_root).problems
    assert any("control character" in p.message for p in problems), problems


def test_legitimate_values_are_accepted(kb_root):
    path = kb_root / "cards" / f"{BASE_CARD}.yaml"
    data = base("card")
    refs = [{**(data.get("references") or [{"title": "t"}])[0], "url": LEGITIMATE["url"]}]
    refs[0].pop("doi", None)
    path.write_text(dump({**data, "license": LEGITIMATE["license"], "references": refs}), encoding="utf-8")
    problems = [
        p for p in validate(kb_root).problems if "licen" in p.message or "URL" in p.message or "url" in p.message
    ]
    assert problems == []
    path.write_text(dump({**data, "license": "(MIT OR Apache-2.0"}), encoding="utf-8")
    assert any("parenthesis" in p.message for p in validate(kb_root).problems)


@pytest.mark.parametrize("spelling", [".nan", ".NaN", ".NAN", ".inf", "-.Inf", "+.INF"])
def test_core_schema_nan_and_inf_are_numbers_and_refused_in_text(kb_root, spelling):
    path = kb_root / "cards" / f"{BASE_CARD}.yaml"
    text = path.read_text(encoding="utf-8").replace("\ntitle:", f"\nreviewers: [{spelling}]\ntitle:", 1)
    path.write_text(text, encoding="utf-8")
    problems = validate(kb_root).problems
    assert [p for p in problems if "number" in p.message and p.line > 1], problems


def test_non_core_spellings_are_text_as_in_yaml_1_2(kb_root):
    path = kb_root / "cards" / f"{BASE_CARD}.yaml"
    data = base("card")
    text = dump({**data, "reviewers": ["x"]}).replace("- x", "- .Nan", 1)
    path.write_text(text, encoding="utf-8")
    assert not [p for p in validate(kb_root).problems if "number" in p.message]


def test_nan_key_is_named_as_written_on_its_line(kb_root):
    path = kb_root / "cards" / f"{BASE_CARD}.yaml"
    text = path.read_text(encoding="utf-8") + ".nan: 1\n"
    path.write_text(text, encoding="utf-8")
    line = text.count("\n")
    problems = validate(kb_root).problems
    assert [(p.line, p.col) for p in problems if "'.nan'" in p.message] == [(line, 1)], problems
    assert not any("'null'" in p.message for p in problems)


def test_check_jsonschema_agrees_on_nan_and_inf(tmp_path):
    checker = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    if not Path(checker).exists():
        pytest.skip("check-jsonschema is not installed")
    root = make_kb(tmp_path / "kb")
    path = root / "cards" / f"{BASE_CARD}.yaml"
    original = path.read_text(encoding="utf-8")
    for spelling, refused in ((".nan", True), (".Inf", True), ("-.INF", True), (".Nan", False), (".iNf", False)):
        path.write_text(original.replace("\ntitle:", f"\nreviewers: [{spelling}]\ntitle:", 1), encoding="utf-8")
        ours = any("number" in p.message for p in validate(root).problems)
        theirs = (
            subprocess.run(
                [checker, "--schemafile", str(root / "schema" / "card.schema.json"), str(path)],
                capture_output=True,
                text=True,
                timeout=120,
            ).returncode
            != 0
        )
        assert ours == refused == theirs, (spelling, ours, theirs)


def test_fifo_and_devices_are_refused_without_reading(kb_root):
    os.mkfifo(kb_root / "cards" / "fifo.yaml")
    os.symlink("/dev/zero", kb_root / "cards" / "zero.yaml")
    os.symlink("/dev/urandom", kb_root / "cards" / "random.yaml")
    proc = _run(kb_root, timeout=60)
    assert "Traceback" not in proc.stderr
    for name in ("fifo", "zero", "random"):
        assert re.search(rf"^cards/{name}\.yaml:1:1: ", proc.stdout, re.M), proc.stdout


def test_files_the_checks_never_see_are_reported(kb_root, tmp_path):
    card = (kb_root / "cards" / f"{BASE_CARD}.yaml").read_text(encoding="utf-8")
    (kb_root / "cards" / "x.YAML").write_text(card, encoding="utf-8")
    (kb_root / "cards" / "x").write_text(card, encoding="utf-8")
    (kb_root / "cards" / "sub").mkdir()
    (kb_root / "cards" / "sub" / "x.yaml").write_text(card, encoding="utf-8")
    (kb_root / "notes").mkdir()
    (kb_root / "notes" / "x.yaml").write_text(card, encoding="utf-8")
    (tmp_path / "outside.yaml").write_text("id: outside\n", encoding="utf-8")
    os.symlink(tmp_path / "outside.yaml", kb_root / "cards" / "outside.yaml")
    shown = {p.path for p in validate(kb_root).problems}
    assert {"cards/x.YAML", "cards/x", "cards/sub/x.yaml", "notes/x.yaml", "cards/outside.yaml"} <= shown


def test_problems_are_capped_per_file_with_a_count(kb_root):
    path = kb_root / "cards" / f"{BASE_CARD}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "".join(f"k{i}: 1\n" for i in range(60_000)), "utf-8")
    proc = _run(kb_root, timeout=120)
    lines = proc.stdout.splitlines()
    assert len(lines) == 102, lines[-3:]
    assert "and 59900 more problems in this file" in lines[-2]
    assert lines[-1].startswith("60000 problems in 1 file")


def test_deep_nesting_and_complex_keys_are_located(kb_root):
    path = kb_root / "cards" / f"{BASE_CARD}.yaml"
    text = path.read_text(encoding="utf-8")
    n = text.count("\n")
    path.write_text(text + "tags: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert [(p.line, p.col > 1) for p in validate(kb_root).problems] == [(n + 1, True)]
    path.write_text(text + "? [a, b]\n: 1\n", encoding="utf-8")
    assert [p.line for p in validate(kb_root).problems] == [n + 1]


def test_jsonl_on_the_command_line_is_not_parsed_as_yaml(kb_root):
    (kb_root / "results.jsonl").write_text('{"a": 1}\n', encoding="utf-8")
    proc = _run(kb_root, str(kb_root / "results.jsonl"))
    assert "YAML" not in proc.stdout and "guard results (.jsonl) live in checks/" in proc.stdout


def test_date_hint_reads_plainly():
    from riskcards import ids

    assert "written" not in ids.DATE_HINT


# A URL in every record kind that has one (and the base URLs of guards.yaml and an assessment's interface).
URL_PLACES = {
    "card reference": ("cards/confident-wrong-dosage-advice.yaml", r"^(\s+url: ).*$"),
    "taxonomy": ("taxonomies/profanity-check.yaml", r"^(url: ).*$"),
    "crosswalk reference": ("taxonomies/crosswalks/aegis-1.0--mlcommons-ailuminate-v1.0.yaml", r"^(\s+url: ).*$"),
    "model": ("models/llama-guard-3-8b.yaml", r"^(url: ).*$"),
    "model fact source": ("models/llama-guard-3-8b.yaml", r"^(      url: ).*$"),
    "incident source": ("incidents/air-canada-bereavement-chatbot.yaml", r"^(  - url: ).*$"),
    "assessment interface": ("assessments/golden/assessment.yaml", r"^(\s+base_url: ).*$"),
    "guards.yaml": ("guards.yaml", r"^(    base_url: ).*$"),
}
BAD_HOSTS = ["http://[", "http://[::1", "http://a]b", "https://[zz]/", "http://user@[::1/", "http://example.org:99999/"]


@pytest.fixture(scope="module")
def url_kb(tmp_path_factory) -> Path:
    from assess_kit import CARDS, kb, write_fixture

    root = kb(tmp_path_factory.mktemp("urls"), (*CARDS, "eating-disorder-promotion"))
    write_fixture(root)
    shutil.copy(REPO / "guards.yaml", root / "guards.yaml")
    assert validate(root).problems == []
    return root


def _plant(root: Path, url: str) -> dict[str, tuple[str, int]]:
    """The URL written into every place; place -> (file, line)."""
    where = {}
    for place, (rel, pattern) in URL_PLACES.items():
        path = root / rel
        text = path.read_text(encoding="utf-8")
        m = re.search(pattern, text, flags=re.M)
        assert m, place
        path.write_text(f"{text[: m.start()]}{m.group(1)}{json.dumps(url)}{text[m.end() :]}", encoding="utf-8")
        where[place] = (rel, text[: m.start()].count("\n") + 1)
    return where


@pytest.mark.parametrize("url", BAD_HOSTS)
def test_malformed_hosts_are_located_in_every_record_kind_with_urls(url_kb, tmp_path, url):
    from riskcards.guards.config import ConfigError, load_config

    root = tmp_path / "kb"
    shutil.copytree(url_kb, root)
    where = _plant(root, url)
    result = validate(root)  # no traceback from urllib
    _assert_well_formed(result.problems, result.checked)
    with pytest.raises(ConfigError) as exc:
        load_config(root / "guards.yaml", root)
    found = {(p.path, p.line) for p in [*result.problems, *exc.value.problems]}
    for place, (rel, line) in where.items():
        assert (rel, line) in found, f"{place}: {url!r} at {rel}:{line} not reported"


def test_malformed_hosts_give_located_errors_on_the_command_line(url_kb, tmp_path):
    root = tmp_path / "kb"
    shutil.copytree(url_kb, root)
    _plant(root, "http://[::1")
    for args in (("validate",), ("guard", "list")):
        proc = subprocess.run(
            [sys.executable, "-m", "riskcards", *args, "--root", str(root)], capture_output=True, text=True, timeout=120
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0 and "Traceback" not in out, out
        assert re.search(r"(?m)^\S+\.yaml:\d+:\d+: (URL|base_url) has a malformed host", out), out


def test_the_shipped_bibliography_has_well_formed_urls():
    from riskcards import bibliography
    from riskcards.validate import url_problem

    bad = {k: w["url"] for k, w in bibliography.works().items() if w.get("url") and url_problem(w["url"])}
    assert bad == {}


@pytest.mark.parametrize("url", BAD_HOSTS)
def test_a_transport_refuses_a_malformed_base_url_with_its_own_error(url):
    """`--base-url` on the command line reaches the transport without the config checks."""
    from riskcards.guards.protocol import TransportError
    from riskcards.guards.transports.openai_http import ChatTransport

    with pytest.raises(TransportError, match="is not an http"):
        ChatTransport(url)


# Guard runs: hostile lines in checks/*.jsonl (control characters, forged lines, bad JSON, huge lines,
# secrets) and hostile files there (a FIFO, a device, a directory, a sparse giant).
NO_PROBLEM_NEEDED = ("checks-ctl-esc-", "checks-ctl-rawjson-")  # valid JSON text, escaped whenever echoed


@pytest.fixture(scope="module")
def checks_root(tmp_path_factory) -> tuple[Path, dict[str, str | None]]:
    from hostile_corpus import checks_corpus, guard_result

    card = guard_result()["example"]["card"]
    root = make_kb(tmp_path_factory.mktemp("checks") / "kb", cards=(card,))
    (root / "checks").mkdir()
    valid = json.dumps(guard_result()).encode()
    files: dict[str, str | None] = {}
    for name, line, secret in checks_corpus():
        (root / "checks" / f"{name}.jsonl").write_bytes(valid + b"\n" + line + b"\n")
        files[f"checks/{name}.jsonl"] = secret
    os.mkfifo(root / "checks" / "fifo.jsonl")
    (root / "checks" / "zero.jsonl").symlink_to("/dev/zero")
    (root / "checks" / "folder.jsonl").mkdir()
    with (root / "checks" / "sparse.jsonl").open("wb") as fh:
        fh.truncate(300 * 1024 * 1024)  # 300 MB of nothing, without writing it
    for name in ("fifo", "zero", "folder", "sparse"):
        files[f"checks/{name}.jsonl"] = None
    return root, files


def test_checks_corpus_covers_every_family(checks_root):
    _root, files = checks_root
    families = {re.sub(r"-\d+$", "", Path(f).stem) for f in files}
    for family in ("checks-ctl-raw", "checks-forge", "checks-badjson", "checks-huge", "checks-secret-value"):
        assert family in families, family
    assert len(files) >= 300


def test_hostile_guard_results_are_located_never_a_traceback_and_never_echo_a_secret(checks_root):
    root, files = checks_root
    outputs = {}
    for fmt in ("text", "json", "github"):
        proc = _run(root, "--format", fmt, timeout=600)  # a FIFO or /dev/zero would hang or exhaust memory
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
        assert proc.returncode == 1, proc.stderr[-3000:]
        outputs[fmt] = proc.stdout
    for line in outputs["text"].splitlines()[:-1]:
        assert LINE.match(line), f"not one located line: {line!r}"
    for line in outputs["github"].splitlines():
        assert line.startswith("::error file=") and not RAW_CONTROL.search(line), line
    assert not RAW_CONTROL.search(outputs["json"])
    data = json.loads(outputs["json"])
    assert not [p for p in data["problems"] if p["path"] == "cards/forged.yaml"]
    lines = {(p["path"], p["line"]) for p in data["problems"]}
    for shown, secret in files.items():
        stem = Path(shown).stem
        if stem in ("fifo", "zero", "folder", "sparse"):
            assert (shown, 1) in lines, shown
        elif not stem.startswith(NO_PROBLEM_NEEDED):
            # a raw line break ends the line early: the forged text is then line 3, a problem of its own
            extra = {(shown, 3)} if stem.startswith("checks-forge-raw") else set()
            assert {(shown, 2), *extra} & lines, shown
        if secret is not None:
            for fmt, out in outputs.items():
                assert secret not in out and secret.split()[-1] not in out, (fmt, shown)
