"""The closed vocabularies of RiskCards, each defined once: the record models, the query layer, the index,
the CLI and the site take them from here (standard library only, so a query process stays fast).

    SEVERITIES        a risk's severity in a scenario, least severe first (SEVERITY_RANK: 1 to 4)
    STATUSES          a card's review status
    SENSITIVITIES     how much of an example is published (PUBLISHED_SENSITIVITIES: those whose text leaves
                      the repository; 'withheld' has none, 'unreviewed' text waits for a person's review;
                      REVIEWED_SENSITIVITIES: what a reviewer sets)
    QUERY_FORMATS     what `query` and the listings print (table, json, csv, ids)
    SHOW_FORMATS      what `show` prints
    COVERAGE_FORMATS  what `coverage` and `guard list` print
    REPORT_FORMATS    how `validate` reports problems
    RELATED_INVERSE   a related-card relation and the one the other card states back
"""

from __future__ import annotations

SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES, 1)}
STATUSES = ("draft", "reviewed", "deprecated")
SENSITIVITIES = ("full", "defanged", "withheld", "unreviewed")
PUBLISHED_SENSITIVITIES = ("full", "defanged")
REVIEWED_SENSITIVITIES = ("full", "defanged", "withheld")  # what a person sets (an assessment's excerpts)
QUERY_FORMATS = ("table", "json", "csv", "ids")
SHOW_FORMATS = ("text", "json")
COVERAGE_FORMATS = ("text", "json")
REPORT_FORMATS = ("text", "json", "github")
RELATED_INVERSE = {
    "overlaps": "overlaps",
    "specialises": "generalises",
    "generalises": "specialises",
    "contrasts": "contrasts",
}
