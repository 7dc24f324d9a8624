"""SSSOM export: every mapping set loaded with sssom's own parser and validated with its validator (the Python
API for each file, the `sssom validate` command for the merged one); metadata, identifiers and the direction of
broader/narrower checked against the crosswalk files. sssom is installed by .ci/run (pinned)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from index_kb import run

from riskcards import exporters, ids, index, query
from riskcards.exporters import sssom as S

REPO = Path(__file__).resolve().parents[1]

pytest.importorskip("sssom", reason="sssom is not installed (.ci/run: pip install sssom)")


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    db = tmp_path_factory.mktemp("sssom") / "riskcards.db"
    index.build(REPO, db, metadata=False)
    c = query.connect(db)
    yield c
    c.close()


@pytest.fixture(scope="module")
def exported(conn, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sssom-out") / "sets"
    n = exporters.export(conn, "sssom", out)
    assert n == len(query.crosswalk_list(conn)) + 1
    return out


def _parse(path: Path):
    from sssom.parsers import parse_sssom_table

    return parse_sssom_table(path)


def test_every_mapping_set_loads_and_validates_with_sssom(conn, exported):
    from sssom.validators import validate

    crosswalks = {cw["id"]: cw for cw in query.crosswalk_list(conn)}
    files = sorted(exported.glob("*.sssom.tsv"))
    assert {f.name.removesuffix(".sssom.tsv") for f in files} == {*crosswalks, "riskcards"}
    total = 0
    for f in files:
        msdf = _parse(f)
        validate(msdf, fail_on_error=True)  # raises on any schema error
        meta = msdf.metadata
        assert meta["mapping_set_id"] == f"{ids.SITE_URL}sssom/{f.name}"
        assert meta["license"] == "https://creativecommons.org/licenses/by/4.0/"
        df = msdf.df
        assert set(df["mapping_justification"]) == {"semapv:ManualMappingCuration"}
        assert set(df["predicate_id"]) <= {
            "skos:exactMatch",
            "skos:broadMatch",
            "skos:narrowMatch",
            "skos:relatedMatch",
        }
        cid = f.name.removesuffix(".sssom.tsv")
        if cid == "riskcards":
            continue
        cw = crosswalks[cid]
        rows = query.crosswalk_rows(conn, cid)
        assert len(df) == len(rows) == cw["relation_count"]
        total += len(rows)
        # every identifier expands, through the set's own curie_map, to its category's page on the site
        for curie in {*df["subject_id"], *df["object_id"]}:
            tid, _, code = curie.partition(":")
            assert tid in (cw["source_taxonomy"], cw["target_taxonomy"])
            assert msdf.converter.expand(curie) == f"{ids.SITE_URL}taxonomies/{tid}/{code}"
        # row by row (sssom's parser sorts them): subject = source, object = target, the rationale is the comment
        # (whitespace collapsed to single spaces)
        got = sorted(zip(df["subject_id"], df["predicate_id"], df["object_id"], df["comment"], strict=True))
        want = [
            (r["source_ref"], S.PREDICATES[r["relation"]], r["target_ref"], " ".join(r["rationale"].split()))
            for r in rows
        ]
        assert got == sorted(want)
    merged = _parse(exported / S.MERGED)
    assert len(merged.df) == total


def test_sssom_validate_command_passes_on_the_merged_set_and_fails_on_a_broken_one(exported, tmp_path):
    sssom_cli = shutil.which("sssom", path=str(Path(sys.executable).parent))
    assert sssom_cli, "the sssom package installs the `sssom` command"
    ok = subprocess.run([sssom_cli, "validate", str(exported / S.MERGED)], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / "broken.sssom.tsv"
    broken.write_text((exported / S.MERGED).read_text().replace("semapv:ManualMappingCuration", "ManualCuration", 1))
    bad = subprocess.run([sssom_cli, "validate", str(broken)], capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "mapping_justification" in bad.stdout + bad.stderr


def test_direction_of_broader_and_narrower_on_known_pairs(conn, exported):
    """Ours: 'source broader target' = the source covers more. SKOS: 'A skos:broadMatch B' = B is broader.
    So broader -> skos:narrowMatch and narrower -> skos:broadMatch, subject = source, object = target."""
    df = _parse(exported / "weidinger-2021--llama-guard-3.sssom.tsv").df

    def predicate(subject: str, obj: str) -> str:
        (p,) = df[(df.subject_id == subject) & (df.object_id == obj)]["predicate_id"]
        return p

    rows = {
        (r["source_ref"], r["target_ref"]): r["relation"]
        for r in query.crosswalk_rows(conn, "weidinger-2021--llama-guard-3")
    }
    # W1.3 Toxic language covers hate speech (S10) and more: Weidinger's risk is the broader one
    assert rows[("weidinger-2021:W1.3", "llama-guard-3:S10")] == "broader"
    assert predicate("weidinger-2021:W1.3", "llama-guard-3:S10") == "skos:narrowMatch"
    # W2.1 leaking private information is one way into S7 Privacy: Llama Guard's category is the broader one
    assert rows[("weidinger-2021:W2.1", "llama-guard-3:S7")] == "narrower"
    assert predicate("weidinger-2021:W2.1", "llama-guard-3:S7") == "skos:broadMatch"
    assert predicate("weidinger-2021:W1.1", "llama-guard-3:S10") == "skos:relatedMatch"
    exact = next(
        r for cw in query.crosswalk_list(conn) for r in query.crosswalk_rows(conn, cw["id"]) if r["relation"] == "exact"
    )
    assert S.mapping_rows([exact])[0]["predicate_id"] == "skos:exactMatch"


def test_awkward_text_survives_the_tsv_and_sssom_parser(tmp_path):
    """Tabs, quotes, line breaks and '#' in names and rationales do not break the table or the metadata."""
    rows = [
        {
            "source_ref": "weidinger-2021:W1.3",
            "source_name": '"Toxic"\tlanguage',
            "relation": "broader",
            "target_ref": "llama-guard-3:S10",
            "target_name": "Hate # not a comment",
            "rationale": 'Starts with a quote: "x"\nand\ta tab; ends with a backslash \\',
        }
    ]
    meta = {
        "curie_map": {
            "weidinger-2021": ids.taxonomy_iri_prefix("weidinger-2021"),
            "llama-guard-3": ids.taxonomy_iri_prefix("llama-guard-3"),
            **S.STANDARD_PREFIXES,
        },
        "mapping_set_id": S.mapping_set_id("x.sssom.tsv"),
        "mapping_set_description": "# a description: with 'quotes' and a colon",
        "license": S.LICENSE,
    }
    f = tmp_path / "x.sssom.tsv"
    f.write_text(S.mapping_set(meta, S.mapping_rows(rows)))
    msdf = _parse(f)
    (row,) = msdf.df.to_dict("records")
    assert row["subject_label"] == '"Toxic" language' and row["object_label"] == "Hate # not a comment"
    assert row["comment"] == 'Starts with a quote: "x" and a tab; ends with a backslash \\'
    assert msdf.metadata["mapping_set_description"] == "# a description: with 'quotes' and a colon"
    table = [line for line in f.read_text().splitlines() if not line.startswith("#")]
    assert len(table) == 2  # the header and one row: the line break in the rationale did not split it


def test_registry_download_publish_and_refusals(conn, tmp_path):
    e = exporters.get("sssom")
    assert e.multi_file and e.download == "riskcards-sssom.zip" and e.publish == "sssom"
    paths = exporters.write_dumps(conn, tmp_path)
    assert paths["riskcards-sssom.zip"].is_file()
    published = exporters.published(tmp_path)
    assert "sssom/riskcards.sssom.tsv" in published and "sssom/weidinger-2021--llama-guard-3.sssom.tsv" in published
    (tmp_path / "sssom" / "stale.sssom.tsv").write_text("x")  # a crosswalk that no longer exists
    exporters.write_dumps(conn, tmp_path)
    assert "sssom/stale.sssom.tsv" not in exporters.published(tmp_path)
    # crosswalks are not cards: a card filter is refused, standard output cannot hold several files
    res = run("export", "-f", "sssom", "--category", "llama-guard-3:S10", "-o", str(tmp_path / "q"), root=REPO)
    assert res.returncode == 2 and "crosswalks, not cards" in res.stderr
    assert run("export", "-f", "sssom", root=REPO).returncode == 2
