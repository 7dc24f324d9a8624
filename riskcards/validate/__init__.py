"""Validation: schema checks on every file, then checks across records; every problem located.

    files -> load (plain data) -> schema (pydantic models, the source of the JSON Schema) -> typed records
          -> cross-record checks -> KnowledgeBase

``validate()`` returns the knowledge base (only valid records) and every problem found, sorted. Nothing
here raises on bad input and nothing prints; the CLI decides how to show the result.

The package has one module per job: ``run`` (reading and orchestration, and the tables of checks),
``messages`` (schema errors as located messages), ``common`` (what the checks share), and one module per
record kind with its checks beyond the schema (``cards``, ``taxonomies``, ``crosswalks``, ``models``, ``incidents``
(incidents, incident links, related cards, reachable expectations, model facts),
``vocabulary``).
"""

from __future__ import annotations

from .common import Files, url_problem
from .messages import _data_path, salvage, schema_message
from .run import KB_CHECKS, RECORD_CHECKS, RecordCache, Result, load_kb, validate

__all__ = [
    "KB_CHECKS",
    "RECORD_CHECKS",
    "Files",
    "RecordCache",
    "Result",
    "_data_path",
    "load_kb",
    "salvage",
    "schema_message",
    "url_problem",
    "validate",
]
