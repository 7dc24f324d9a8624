"""Tiered verdicts: guards that sort inputs into handling tiers instead of answering safe or unsafe.

DeepKnown-Guard (taxonomy ``deepknown-guard-2025``) classifies a query as T1 Safe, T2 Unsafe, T3 Conditionally
Safe or T4 Focused Attention. Its record keeps the native tier code as it is (``verdict.tier``), beside the
binary ``label`` every other part of RiskCards reads. The rule, one table for every tiered guard policy:

    class          label    counts in coverage as
    safe           safe     a safe verdict: missed inside the guard's policy, outside policy elsewhere
    flagged        unsafe   flagged
    conditional    unsafe   conditional: flagged with a condition, counted and shown apart from flagged

    deepknown-guard-2025   T1 Safe -> safe, T2 Unsafe -> flagged, T3 Conditionally Safe -> conditional,
                           T4 Focused Attention -> flagged

An error verdict carries no tier; a verdict of a tiered policy that is not an error must carry one, and its
label must be the one its tier's class gives (``problem``). Expectations on cards stay binary and are compared
with the label. A new tiered policy is one entry in ``TIERS`` (and a line above), with a test.
"""

from __future__ import annotations

from typing import Any, Literal

TierClass = Literal["safe", "flagged", "conditional"]

TIERS: dict[str, dict[str, TierClass]] = {
    "deepknown-guard-2025": {"T1": "safe", "T2": "flagged", "T3": "conditional", "T4": "flagged"},
}
"""Taxonomy id of a tiered guard policy -> {native tier code: how it counts}."""

LABEL: dict[TierClass, str] = {"safe": "safe", "flagged": "unsafe", "conditional": "unsafe"}
"""The binary label that goes with each class."""


def tier_class(taxonomy: str, tier: str | None) -> TierClass | None:
    """How a tier of ``taxonomy`` counts, or None for a verdict without a (known) tier."""
    return TIERS.get(taxonomy, {}).get(tier) if tier else None


def problem(result: Any) -> str | None:
    """What is wrong with a record's tier (None when nothing is): the same check for validate, the build and
    ``riskcards guard import``."""
    v, taxonomy = result.verdict, result.guard.taxonomy
    rule = TIERS.get(taxonomy)
    if v.tier is None:
        if rule is not None and v.label != "error":
            return f"a verdict of the tiered guard policy {taxonomy} needs its native 'tier' ({', '.join(rule)})"
        return None
    if v.label == "error":
        return f"an error verdict carries no tier (it has tier '{v.tier}')"
    if rule is None:
        tiered = ", ".join(sorted(TIERS))
        return f"'tier' '{v.tier}': {taxonomy} is not a tiered guard policy (tiered policies: {tiered})"
    if v.tier not in rule:
        return f"'tier' '{v.tier}' is not a tier of {taxonomy}; its tiers are {', '.join(rule)}"
    want = LABEL[rule[v.tier]]
    if v.label != want:
        return f"tier {v.tier} counts as {rule[v.tier]}, whose label is '{want}', not '{v.label}'"
    return None
