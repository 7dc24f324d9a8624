"""The closed vocabularies of RiskCards, each defined once: the record models, the query layer, the index,
the CLI and the site take them from here (standard library only, so a query process stays fast).

    SEVERITIES        a risk's severity in a scenario, least severe first (SEVERITY_RANK: 1 to 4)
    STATUSES          a card's review status
    QUERY_FORMATS     what `query` and the listings print (table, json, csv, ids)
    SHOW_FORMATS      what `show` prints
    REPORT_FORMATS    how `validate` reports problems
"""

from __future__ import annotations

SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES, 1)}
STATUSES = ("draft", "reviewed", "deprecated")
QUERY_FORMATS = ("table", "json", "csv", "ids")
SHOW_FORMATS = ("text", "json")
REPORT_FORMATS = ("text", "json", "github")
