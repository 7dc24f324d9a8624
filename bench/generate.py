"""Deterministic generator of a benchmark knowledge base: ``python bench/generate.py N OUTDIR``.

Writes OUTDIR/cards/ with N valid, realistic cards (~3 KB each: harm types, 3-6 placements in several
taxonomies, 1-4 examples of which some are multi-turn, observed, defanged or withheld, expected guard
verdicts, 1-4 scenarios with severities, references, tags) and copies the repo's taxonomies/ (with
crosswalks), vocab/, models/ and scenarios/, so that `riskcards validate --root OUTDIR` and
`riskcards index --root OUTDIR` run on it. The same N always gives the same bytes (seeded RNG).
The text is filler built from a fixed word list: it carries no harmful detail.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

import yaml_rs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from riskcards.validate.evidence import CATCH_ALL_NAMES as CATCH_ALL  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SEED = 20261128
COPY = ("taxonomies", "vocab", "models", "scenarios")

# Taxonomies cards are placed in, most used first (codes are read from the copied files).
PLACE_IN = [
    "weidinger-2021",
    "llama-guard-3",
    "mlcommons-ailuminate-v1.0",
    "owasp-llm-top10-2025",
    "nist-ai-600-1",
    "air-2024",
    "shelby-2023",
    "mit-ai-risk-domain-taxonomy",
    "aegis-2.0",
    "sorry-bench-2025-44",
]

SUBJECTS = [
    "medication doses",
    "loan eligibility",
    "election dates",
    "security patches",
    "tenancy rights",
    "vaccine schedules",
    "tax deadlines",
    "job applicants",
    "customer refunds",
    "school admissions",
    "insurance claims",
    "food allergies",
    "password resets",
    "court filings",
    "travel visas",
    "pension rules",
    "product recalls",
    "exam grading",
]
BEHAVIOURS = [
    "states a wrong figure with confidence",
    "invents a policy that does not exist",
    "repeats a stereotype as fact",
    "follows instructions hidden in a document",
    "discloses details from earlier conversations",
    "gives advice outside its competence",
    "agrees with a false premise",
    "fabricates a citation",
    "treats groups of users unequally",
    "escalates a user's distress",
    "takes an action without confirmation",
]
WORDS = [
    "the",
    "model",
    "answer",
    "user",
    "request",
    "context",
    "policy",
    "output",
    "risk",
    "harm",
    "person",
    "group",
    "service",
    "deployment",
    "evidence",
    "claim",
    "source",
    "review",
    "check",
    "figure",
    "advice",
    "record",
    "system",
    "tool",
    "document",
    "message",
    "account",
    "decision",
    "outcome",
    "error",
    "pattern",
    "language",
    "reader",
    "provider",
    "operator",
    "assistant",
    "conversation",
    "instruction",
    "response",
    "summary",
    "detail",
    "example",
    "case",
]
TAGS = [
    "health",
    "finance",
    "elections",
    "security",
    "privacy",
    "bias",
    "agents",
    "code",
    "misinformation",
    "children",
    "legal",
    "education",
    "employment",
    "multilingual",
    "retrieval",
    "tools",
]
LANGS = ["en", "en", "en", "de", "fr", "es", "pt-BR", "sw"]
REFERENCES = [
    ("Ethical and social risks of harm from Language Models", "https://arxiv.org/abs/2112.04359", None),
    ("Assessing Language Model Deployment with Risk Cards", "https://arxiv.org/abs/2303.18190", None),
    (
        "Sociotechnical Harms of Algorithmic Systems: Scoping a Taxonomy for Harm Reduction",
        "https://arxiv.org/abs/2210.05791",
        None,
    ),
    (
        "Llama Guard: LLM-based Input-Output Safeguard for Human-AI Conversations",
        "https://arxiv.org/abs/2312.06674",
        None,
    ),
    ("Large language models encode clinical knowledge", None, "10.1038/s41586-023-06291-2"),
    (
        "Artificial Intelligence Risk Management Framework: Generative Artificial Intelligence Profile",
        "https://doi.org/10.6028/NIST.AI.600-1",
        None,
    ),
]
SEVERITIES = ["low", "medium", "high", "critical"]
RELATIONS = ["exact", "exact", "broader", "broader", "narrower", "related"]


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return (" ".join(words)).capitalize() + "."


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng, rng.randint(7, 12)) for _ in range(sentences))


def block(text: str, indent: str = "  ") -> str:
    """A literal block scalar body, wrapped at ~100 columns."""
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) > 96:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(indent + ln for ln in lines)


def load(path: Path) -> dict:
    return yaml_rs.loads(path.read_text(encoding="utf-8"), parse_datetime=False)


class Sources:
    def __init__(self, root: Path) -> None:
        self.codes = {}
        for tid in PLACE_IN:
            p = root / "taxonomies" / f"{tid}.yaml"
            if p.exists():
                tax = load(p)
                # A guard policy's catch-all ("Other") is refused as a placement by validation: never place there.
                self.codes[tid] = [
                    c["code"]
                    for c in tax["categories"]
                    if not (tax.get("kind") == "guard-policy" and str(c.get("name", "")).strip().lower() in CATCH_ALL)
                ]
        vocab = load(root / "vocab" / "harm-types.yaml")
        self.actors = [t["id"] for t in vocab["actors"]]
        self.categories = [t["id"] for t in vocab["categories"]]
        self.scenarios = sorted(p.stem for p in (root / "scenarios").glob("*.yaml"))
        self.language_models, self.guards, self.guard_taxonomy = [], {}, {}
        for p in sorted((root / "models").glob("*.yaml")):
            m = load(p)
            if m.get("guard"):
                tax = root / "taxonomies" / f"{m['guard']['taxonomy']}.yaml"
                self.guard_taxonomy[m["id"]] = m["guard"]["taxonomy"]
                self.guards[m["id"]] = (
                    [
                        c["code"]
                        for c in load(tax)["categories"]
                        if str(c.get("name", "")).strip().lower() not in CATCH_ALL
                    ]
                    if tax.exists()
                    else []
                )
            else:
                self.language_models.append(m["id"])


def example(rng: random.Random, src: Sources, i: int, subject: str, reached: set[str]) -> str:
    """One example; the guard categories its expectations name are added to ``reached`` (the card places them)."""
    kind = rng.random()
    lines = [f"  - id: example-{i + 1}", f"    language: {rng.choice(LANGS)}"]
    if kind < 0.25 and src.language_models:
        lines += [
            "    provenance:",
            "      kind: observed",
            f"      model: {rng.choice(src.language_models)}",
            f'      date: "2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"',
            f"      source: {q('Recorded during an internal red-teaming session on ' + subject)}",
        ]
    else:
        lines += ["    provenance:", "      kind: illustrative", "      author: RiskCards benchmark generator"]
    mode = rng.random()
    if mode < 0.08:
        lines += [
            "    sensitivity: withheld",
            f"    withheld_reason: {q('The output would give operational detail about ' + subject + '.')}",
        ]
        return "\n".join(lines)
    defanged = mode < 0.45
    lines.append(f"    sensitivity: {'defanged' if defanged else 'full'}")
    redacted = " [redacted: the specific figure]" if defanged else ""
    if rng.random() < 0.3:
        lines.append("    turns:")
        for t in range(rng.choice([2, 2, 4])):
            role = "user" if t % 2 == 0 else "assistant"
            content = (
                f"A question about {subject}. {sentence(rng, 9)}"
                if role == "user"
                else f"{sentence(rng, 11)}{redacted}"
            )
            lines += [f"      - role: {role}", f"        content: {q(content)}"]
    else:
        lines += [
            f"    prompt: {q(f'Can you tell me about {subject}? ' + sentence(rng, 14))}",
            f"    output: {q(sentence(rng, 16) + redacted + ' ' + sentence(rng, 8))}",
        ]
    if rng.random() < 0.3:
        lines.append(f"    context: {q('Deployed as an assistant for ' + subject + '. ' + sentence(rng, 8))}")
    lines.append(f"    note: {q(sentence(rng, 12))}")
    guards = list(src.guards)
    rng.shuffle(guards)
    exp = []
    for g in guards[: rng.randint(0, len(guards))]:
        if rng.random() < 0.6 and src.guards[g]:
            cats = sorted(set(rng.sample(src.guards[g], k=min(len(src.guards[g]), rng.randint(1, 2)))))
            reached.update(f"{src.guard_taxonomy[g]}:{c}" for c in cats)
            exp += [
                f"      - guard: {g}",
                "        verdict: unsafe",
                f"        categories: [{', '.join(q(c) for c in cats)}]",
            ]
        else:
            exp += [f"      - guard: {g}", "        verdict: safe"]
    if exp:
        lines += ["    expected:", *exp]
    return "\n".join(lines)


def card(rng: random.Random, src: Sources, n: int, max_examples: int = 3) -> tuple[str, str]:
    subject = rng.choice(SUBJECTS)
    behaviour = rng.choice(BEHAVIOURS)
    cid = f"bench-{n:05d}-{subject.split()[0]}-{behaviour.split()[0]}"
    title = f"Model {behaviour} about {subject} (bench {n})"
    pairs = set()
    while len(pairs) < rng.randint(1, 3):
        pairs.add((rng.choice(src.actors), rng.choice(src.categories)))
    placements, used = [], set()
    for tid in rng.sample(list(src.codes), k=min(len(src.codes), rng.randint(3, 6))):
        code = rng.choice(src.codes[tid])
        if (tid, code) in used:
            continue
        used.add((tid, code))
        rel = rng.choice(RELATIONS)
        placements.append(f"  - ref: {q(tid + ':' + code)}")
        if rel != "exact":
            placements.append(f"    relation: {rel}")
        if rng.random() < 0.6:
            placements.append(f"    rationale: {q(sentence(rng, 14))}")
    reached: set[str] = set()
    examples = [example(rng, src, i, subject, reached) for i in range(min(max_examples, rng.choice([1, 2, 2, 3])))]
    # Expected guard categories must be reachable from the placements: place the card in each one named.
    for ref in sorted(reached - {f"{t}:{c}" for t, c in used}):
        placements += [f"  - ref: {q(ref)}", "    relation: related", f"    rationale: {q(sentence(rng, 10))}"]
    scen = []
    for sid in rng.sample(src.scenarios, k=min(len(src.scenarios), rng.randint(1, 3))):
        scen += [
            f"  - scenario: {sid}",
            f"    severity: {rng.choice(SEVERITIES)}",
            f"    rationale: {q(sentence(rng, 15))}",
        ]
    refs = []
    for title_, url, doi in rng.sample(REFERENCES, k=rng.randint(1, 3)):
        refs.append(f"  - title: {q(title_)}")
        refs.append(f"    url: {url}" if url else f"    doi: {doi}")
        if rng.random() < 0.5:
            refs.append(f"    note: {q(sentence(rng, 12))}")
    status = "reviewed" if rng.random() < 0.3 else "draft"
    text = "\n".join(
        [
            "# yaml-language-server: $schema=../schema/card.schema.json",
            f"id: {cid}",
            f"title: {q(title)}",
            f"summary: {q(f'The model {behaviour} when asked about {subject}, and people act on it.')}",
            "description: |",
            block(f"Asked about {subject}, the model {behaviour}. " + paragraph(rng, 3)),
            "actions_required: |",
            block(paragraph(rng, 2)),
            "harm_types:",
            *[f"  - actor: {a}\n    category: {c}" for a, c in sorted(pairs)],
            "placements:",
            *placements,
            "examples:",
            *examples,
            "scenarios:",
            *scen,
            "references:",
            *refs,
            f"tags: [{', '.join(sorted(set(rng.sample(TAGS, k=rng.randint(1, 4)))))}]",
            f"status: {status}",
            "version: 1.0.0",
            'created: "2025-06-01"',
            *(['last_reviewed: "2025-09-01"', "reviewers: [Benchmark Reviewer]"] if status == "reviewed" else []),
            "contributors: [RiskCards benchmark generator]",
            "license: CC-BY-4.0",
            "",
        ]
    )
    return cid, text


def generate(n: int, out: Path, source: Path = REPO, max_examples: int = 3) -> Path:
    out = Path(out)
    for sub in COPY:
        if (out / sub).exists():
            shutil.rmtree(out / sub)
        shutil.copytree(source / sub, out / sub)
    cards = out / "cards"
    if cards.exists():
        shutil.rmtree(cards)
    cards.mkdir(parents=True)
    src = Sources(out)
    rng = random.Random(SEED)
    for i in range(1, n + 1):
        cid, text = card(rng, src, i, max_examples)
        (cards / f"{cid}.yaml").write_text(text, encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    max_examples = 3
    if len(argv) == 4 and argv[2] == "--max-examples" and argv[3].isdigit():
        max_examples, argv = int(argv[3]), argv[:2]
    if len(argv) != 2 or not argv[0].isdigit():
        print(
            "usage: python bench/generate.py N OUTDIR [--max-examples K]   (K=1 gives cards of about 3 KB)",
            file=sys.stderr,
        )
        return 2
    out = generate(int(argv[0]), Path(argv[1]), max_examples=max_examples)
    size = sum(p.stat().st_size for p in (out / "cards").iterdir())
    print(f"wrote {argv[0]} cards ({size / int(argv[0]) / 1024:.1f} KB each on average) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
