"""``knowledge-base.yaml`` at a knowledge base's root: what the knowledge base declares about itself.

    evidence_required: true   the evidence rules apply (riskcards.validate.evidence)
    base: true | false        read on top of the package's base layer or not (riskcards.baselayer)

A missing, unreadable or malformed file declares nothing (an empty mapping); validation reports the file's
own problems elsewhere, so reading it here never fails.
"""

from __future__ import annotations

from pathlib import Path

import yaml

POLICY_FILE = "knowledge-base.yaml"


def read_policy(root: Path | str) -> dict:
    try:
        data = yaml.safe_load((Path(root) / POLICY_FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
