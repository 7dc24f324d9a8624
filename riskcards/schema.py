"""JSON Schema generation from the record models (draft 2020-12), and the drift check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .models import KINDS, SCHEMA_BASE_URL

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def generate(kind: str) -> dict[str, Any]:
    """The JSON Schema of one record kind, with $schema, $id, title and description."""
    model = KINDS[kind]
    body = model.model_json_schema(by_alias=True, mode="validation")
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": f"{SCHEMA_BASE_URL}{kind}.schema.json",
        "title": f"RiskCards {kind} record",
        "description": (model.__doc__ or "").strip().splitlines()[0],
    }
    body.pop("title", None)
    body.pop("description", None)
    schema.update(body)
    return schema


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_all(folder: Path) -> list[Path]:
    """Write every schema to ``folder``; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for kind in KINDS:
        path = folder / f"{kind}.schema.json"
        path.write_text(dumps(generate(kind)), encoding="utf-8")
        out.append(path)
    return out


def drift(folder: Path) -> list[str]:
    """Names of committed schemas that differ from the generated ones (or are missing)."""
    stale = []
    for kind in KINDS:
        path = folder / f"{kind}.schema.json"
        if not path.exists() or path.read_text(encoding="utf-8") != dumps(generate(kind)):
            stale.append(path.name)
    return stale
