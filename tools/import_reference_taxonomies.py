"""Convert the cleaned reference taxonomy lists into the project's taxonomy format.

Run once by a maintainer when the reference lists change:

    python tools/import_reference_taxonomies.py ../shared/reference/taxonomies taxonomies

Codes, names, parents, levels, alternative names, short names and official ids are copied exactly.
Reference descriptions (often quotations) are not copied; descriptions in taxonomies/ are our own
words and are kept when a file is regenerated, as are the fields only RiskCards writes: a taxonomy's
`missing_levels` and a category's `out_of_scope` reason. Other per-category facts go to `attributes`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from riskcards.paths import write_atomic

KIND = {
    "weidinger-2021": "harm-taxonomy",
    "weidinger-2022": "harm-taxonomy",
    "shelby-2023": "harm-taxonomy",
    "llama-guard-1": "guard-policy",
    "llama-guard-2": "guard-policy",
    "llama-guard-3": "guard-policy",
    "llama-guard-4": "guard-policy",
    "aegis-1.0": "guard-policy",
    "aegis-2.0": "guard-policy",
    "shieldgemma-v1": "guard-policy",
    "openai-moderation-omni": "guard-policy",
    "wildguardmix-subcategories": "guard-policy",
    "mlcommons-ai-safety-v0.5": "benchmark",
    "mlcommons-ailuminate-v1.0": "benchmark",
    "air-2024": "benchmark",
    "sorry-bench-2024-45": "benchmark",
    "sorry-bench-2025-44": "benchmark",
    "nist-ai-600-1": "harm-taxonomy",
    "owasp-llm-top10-2025": "security",
    "owasp-llm-top10-2023-v1.1": "security",
    "mit-ai-risk-domain-taxonomy": "risk-repository",
    "mit-ai-risk-causal-taxonomy": "risk-repository",
    "avid-sep-view": "risk-repository",
    "avid-lifecycle-view": "risk-repository",
    "s-eval-2024": "benchmark",
    "hendrycks-catastrophic-2023": "harm-taxonomy",
    "t2isafety-2025": "benchmark",
    "usb-2025": "benchmark",
    "sosbench-2025": "benchmark",
    "safe-ai-2025": "harm-taxonomy",
    "agentfail-2025": "harm-taxonomy",
    "riosworld-2025": "benchmark",
    "deepknown-guard-2025": "guard-policy",
    "mitre-atlas-tactics": "security",
}
SHORT = {
    "weidinger-2021": "Weidinger 2021",
    "weidinger-2022": "Weidinger 2022",
    "shelby-2023": "Shelby 2023",
    "llama-guard-1": "Llama Guard 1",
    "llama-guard-2": "Llama Guard 2",
    "llama-guard-3": "Llama Guard 3",
    "llama-guard-4": "Llama Guard 4",
    "aegis-1.0": "Aegis 1.0",
    "aegis-2.0": "Aegis 2.0",
    "shieldgemma-v1": "ShieldGemma v1",
    "openai-moderation-omni": "OpenAI moderation (omni)",
    "wildguardmix-subcategories": "WildGuardMix",
    "mlcommons-ai-safety-v0.5": "MLCommons v0.5",
    "mlcommons-ailuminate-v1.0": "AILuminate v1.0",
    "air-2024": "AIR 2024",
    "sorry-bench-2024-45": "SORRY-Bench (45)",
    "sorry-bench-2025-44": "SORRY-Bench (44)",
    "nist-ai-600-1": "NIST AI 600-1",
    "owasp-llm-top10-2025": "OWASP LLM 2025",
    "owasp-llm-top10-2023-v1.1": "OWASP LLM 2023",
    "mit-ai-risk-domain-taxonomy": "MIT AI Risk domains",
    "mit-ai-risk-causal-taxonomy": "MIT AI Risk causes",
    "avid-sep-view": "AVID effects",
    "avid-lifecycle-view": "AVID lifecycle",
    "s-eval-2024": "S-Eval",
    "hendrycks-catastrophic-2023": "Hendrycks catastrophic risks",
    "t2isafety-2025": "T2ISafety",
    "usb-2025": "USB-SafeBench",
    "sosbench-2025": "SOSBench",
    "safe-ai-2025": "SAFE-AI behaviours",
    "agentfail-2025": "AgentFail",
    "riosworld-2025": "RiOSWorld",
    "deepknown-guard-2025": "DeepKnown-Guard tiers",
    "mitre-atlas-tactics": "MITRE ATLAS tactics",
}
LICENSE = (
    "Codes and category names are reproduced verbatim for reference and interoperability only; the source "
    "document keeps its own copyright and licence. Descriptions in this file are RiskCards' own words (CC-BY-4.0)."
)
COPIED = ("code", "name", "parent", "level", "also_parent", "short_name", "official_id", "alt_names")
DROPPED = ("description",)


def convert(ref: dict, existing: dict | None) -> dict:
    own = {c["code"]: c for c in (existing or {}).get("categories", [])}
    out = {
        "id": ref["id"],
        "name": ref["name"],
        "short_name": SHORT[ref["id"]],
        "kind": KIND[ref["id"]],
        "edition": str(ref["version"]),
        "source": ref["source"],
    }
    if ref.get("sources"):
        out["sources"] = [str(s) for s in ref["sources"]]
    out["confidence"] = ref["confidence"]
    out["license"] = (existing or {}).get("license", LICENSE)
    if ref.get("code_convention"):
        out["code_convention"] = ref["code_convention"]
    if ref.get("notes"):
        out["notes"] = ref["notes"]
    if existing and existing.get("missing_levels"):
        out["missing_levels"] = existing["missing_levels"]
    if existing and existing.get("description"):
        out["description"] = existing["description"]
    cats = []
    for c in ref["categories"]:
        cat = {k: c[k] for k in COPIED if k in c and c[k] not in (None, [])}
        cat.setdefault("parent", None)
        cat["code"], cat["name"] = str(c["code"]), str(c["name"])
        if cat.get("parent") is not None:
            cat["parent"] = str(cat["parent"])
        if "also_parent" in cat:
            cat["also_parent"] = str(cat["also_parent"])
        if "alt_names" in cat:
            cat["alt_names"] = [str(a) for a in cat["alt_names"]]
        mine = own.get(cat["code"], {})
        for own_field in ("description", "out_of_scope"):
            if mine.get(own_field):
                cat[own_field] = mine[own_field]
        attrs = {k: v for k, v in c.items() if k not in COPIED and k not in DROPPED and v is not None}
        attrs = {k: (v if isinstance(v, (str, int, bool)) else str(v)) for k, v in attrs.items()}
        if attrs:
            cat["attributes"] = attrs
        cats.append(cat)
    out["categories"] = cats
    return out


HEADER = "# yaml-language-server: $schema=../schema/taxonomy.schema.json\n"


def render(ref: dict, existing: dict | None) -> str:
    """The text of taxonomies/<id>.yaml for a reference list, keeping our own descriptions."""
    body = yaml.safe_dump(convert(ref, existing), sort_keys=False, allow_unicode=True, width=110)
    return HEADER + body


def lost_descriptions(ref: dict, existing: dict | None) -> list[str]:
    """Codes whose description or out-of-scope reason would be lost because the reference list no longer has them."""
    codes = {str(c["code"]) for c in ref["categories"]}
    return [
        str(c["code"])
        for c in (existing or {}).get("categories", [])
        if (c.get("description") or c.get("out_of_scope")) and str(c["code"]) not in codes
    ]


def main(src: str, dst: str) -> None:
    for path in sorted(Path(src).glob("*.yaml")):
        ref = yaml.safe_load(path.read_text(encoding="utf-8"))
        target = Path(dst) / path.name
        existing = yaml.safe_load(target.read_text(encoding="utf-8")) if target.exists() else None
        for code in lost_descriptions(ref, existing):
            print(
                f"{target}: category {code} is gone from the reference list; its description is dropped",
                file=sys.stderr,
            )
        write_atomic(target, render(ref, existing))
        print(target)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python tools/import_reference_taxonomies.py REFERENCE_DIR TAXONOMIES_DIR")
    main(*sys.argv[1:3])
