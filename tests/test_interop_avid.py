"""AVID export: every record loaded with avidtools' own pydantic models; placements carried over exactly, cards
without AVID placements listed with the reason, nothing invented. avidtools is installed by .ci/run (pinned)."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

import pytest
from index_kb import run

from riskcards import index, query
from riskcards.exporters import avid

REPO = Path(__file__).resolve().parents[1]

pytest.importorskip("avidtools", reason="avidtools is not installed (.ci/run: pip install avidtools)")


def _models():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from avidtools.datamodels import enums
        from avidtools.datamodels.vulnerability import Vulnerability
    return Vulnerability, enums


@pytest.fixture(scope="module")
def cards(tmp_path_factory) -> list[dict]:
    db = tmp_path_factory.mktemp("avid") / "riskcards.db"
    index.build(REPO, db, metadata=False)
    conn = query.connect(db)
    try:
        return query.cards_full(conn)
    finally:
        conn.close()


def test_every_record_loads_with_avidtools_and_carries_the_cards_placements(cards, tmp_path):
    Vulnerability, enums = _models()
    out = tmp_path / "avid"
    res = run("export", "-f", "avid", "-o", str(out), root=REPO)
    assert res.returncode == 0, res.stderr
    files = {p.stem: p for p in (out / "vulnerabilities").glob("*.json")}
    skipped = {s["card"]: s["reason"] for s in json.loads((out / "skipped.json").read_text())}
    assert f"wrote {len(files)} vulnerability records" in res.stderr
    by_id = {c["id"]: c for c in cards}
    assert set(files) | set(skipped) == set(by_id) and not set(files) & set(skipped)
    assert len(files) >= 20
    for cid, path in files.items():
        text = path.read_text()
        v = Vulnerability.model_validate_json(text)  # avidtools' own model: every field present and typed
        assert json.loads(v.model_dump_json()) == json.loads(text)
        card = by_id[cid]
        sep = [p["ref"].split(":")[1] for p in card["placements"] if p["taxonomy"] == "avid-sep-view"]
        life = [p["ref"].split(":")[1] for p in card["placements"] if p["taxonomy"] == "avid-lifecycle-view"]
        assert sep or life
        assert [s.name for s in v.impact.avid.sep_view] == sep  # e.g. E0301 -> 'E0301: Toxicity'
        assert [s.name for s in v.impact.avid.lifecycle_view] == life
        assert set(v.impact.avid.risk_domain) == {avid.DOMAINS[c[0]] for c in sep}
        # nothing invented: our namespace and the card's own id, version, summary and dates
        assert v.data_type == "RiskCards" and v.metadata.vuln_id == cid and v.data_version == card["version"]
        assert v.problemtype.description.value == card["summary"]
        assert v.problemtype.classof == enums.ClassEnum.na and str(v.published_date) == card["created"]
        assert v.references[0].url.endswith(f"/cards/{cid}/")
    toxic = json.loads(next(p for p in files.values() if '"E0301: Toxicity"' in p.read_text()).read_text())
    assert toxic["impact"]["avid"]["risk_domain"] == ["Ethics"]
    for cid, reason in skipped.items():
        assert (
            not any(p["taxonomy"].startswith("avid-") for p in by_id[cid]["placements"])
            or by_id[cid]["status"] == "deprecated"
        ), cid
        assert reason


def test_no_placement_deprecated_top_level_codes_and_observed_models(cards):
    Vulnerability, _enums = _models()
    card = copy.deepcopy(next(c for c in cards if any(p["taxonomy"] == "avid-sep-view" for p in c["placements"])))
    base = [p for p in card["placements"] if not p["taxonomy"].startswith("avid-")]
    # no AVID placement: a reason, never a guessed category
    assert "no AVID placement" in avid.vulnerability({**card, "placements": base}, "v")
    # deprecated: left out, with the replacement named
    assert avid.vulnerability({**card, "status": "deprecated", "superseded_by": "other"}, "v") == (
        "deprecated; superseded by other"
    )
    # a level-1 code ('S', a project label, not an AVID code) gives the risk domain only
    top = {"ref": "avid-sep-view:S", "taxonomy": "avid-sep-view", "relation": "broader"}
    life = {"ref": "avid-lifecycle-view:L05", "taxonomy": "avid-lifecycle-view", "relation": "exact"}
    v = avid.vulnerability({**card, "placements": [*base, top, life]}, "v")
    assert v.impact.avid.risk_domain == ["Security"] and v.impact.avid.sep_view == []
    assert [x.value for x in v.impact.avid.lifecycle_view] == ["L05: Evaluation"]
    # the models of observed examples are the affected artifacts; illustrative and unreviewed ones are not
    ex = card["examples"][0]
    observed = {**ex, "provenance": {"kind": "observed", "model": "llama-3.1-8b-instruct", "date": "2024-05-01"}}
    unreviewed = {**observed, "sensitivity": "unreviewed", "provenance": {"kind": "observed", "model": "gpt-4o"}}
    v = avid.vulnerability({**card, "examples": [ex, observed, unreviewed]}, "v")
    assert [a.name for a in v.affects.artifacts] == ["llama-3.1-8b-instruct"]
    Vulnerability.model_validate_json(v.model_dump_json())


def test_a_format_whose_module_is_missing_has_no_dump_and_no_download(tmp_path):
    """Without avidtools (an optional install) `riskcards build` still writes every other dump."""
    from riskcards import exporters

    @exporters.register("needs-nothing-here", help="x", download="x.zip", multi_file=True, requires="no_such_module_rc")
    def _render(conn, ids=None, query=None):  # pragma: no cover - never called
        raise AssertionError("rendered although its module is missing")

    try:
        assert not exporters.get("needs-nothing-here").available()
        assert exporters.get("avid").available()
        assert "x.zip" not in exporters.downloads() and "riskcards-avid.zip" in exporters.downloads()
        db = tmp_path / "r.db"
        index.build(REPO, db, metadata=False)
        conn = query.connect(db)
        written = exporters.write_dumps(conn, tmp_path / "dumps")
        assert "x.zip" not in written and (tmp_path / "dumps" / "riskcards-avid.zip").is_file()
    finally:
        exporters.unregister("needs-nothing-here")
