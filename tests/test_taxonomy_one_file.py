"""Adding a taxonomy is adding one YAML file: with no other edit it validates, cards can be placed in it, and
the index, `query --category`, `taxonomy`, `taxonomies` and the site's data know it (CONTRIBUTING, "Adding
code")."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import BASE_CARD, make_kb

TOY = """\
id: toy-2026
name: Toy Taxonomy 2026
short_name: Toy 2026
kind: harm-taxonomy
edition: "2026"
source: written for this test
confidence: exact
license: CC-BY-4.0
description: A two-level taxonomy that exists only to show that a new taxonomy is one file.
categories:
- code: T1
  name: Toy harms
  level: 1
  parent: null
  description: Harms of the toy kind, in the test's own words.
- code: T1.1
  name: Toy dosage harms
  level: 2
  parent: T1
  description: A sub-category, so that a query for T1 finds cards placed in T1.1.
- code: T2
  name: Other toy harms
  level: 1
  parent: null
  description: A category no card is placed in.
"""


def cli(root, *args):
    return subprocess.run(
        [sys.executable, "-m", "riskcards", *args, "--root", str(root)], capture_output=True, text=True, cwd=root
    )


def test_a_new_taxonomy_file_is_used_everywhere(tmp_path):
    root = make_kb(tmp_path / "kb")
    (root / "taxonomies" / "toy-2026.yaml").write_text(TOY, encoding="utf-8")
    card = root / "cards" / f"{BASE_CARD}.yaml"
    text = card.read_text(encoding="utf-8")
    placement = "  - ref: toy-2026:T1.1\n    rationale: The card's risk is the toy sub-category's.\n"
    card.write_text(text.replace("placements:\n", "placements:\n" + placement, 1), encoding="utf-8")

    checked = cli(root, "validate")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert cli(root, "index").returncode == 0
    found = cli(root, "query", "--category", "toy-2026:T1", "-f", "ids")
    assert found.stdout.split() == [BASE_CARD]
    tree = cli(root, "taxonomy", "toy-2026", "-f", "json")
    assert tree.returncode == 0, tree.stderr
    assert "Toy dosage harms" in tree.stdout and "Other toy harms" in tree.stdout
    listed = json.loads(cli(root, "taxonomies", "-f", "json").stdout)
    assert "toy-2026" in json.dumps(listed)

    # and a placement in a code the file does not have is a located error naming the file's codes
    card.write_text(card.read_text(encoding="utf-8").replace("toy-2026:T1.1", "toy-2026:T9"), encoding="utf-8")
    bad = cli(root, "validate")
    assert bad.returncode == 1
    assert f"cards/{BASE_CARD}.yaml:21:10: 'T9' is not a code of toy-2026; closest valid codes: T2, T1" in bad.stdout
