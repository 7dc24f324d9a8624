"""Helpers for the site tests: a knowledge base with the site configuration in a temporary folder, real
builds through the CLI, hand-made guard verdicts, and an HTML checker for injected markup."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from conftest import trim_links

REPO = Path(__file__).resolve().parents[1]
HOSTILE = REPO / "tests" / "data" / "site" / "hostile-markup-card.yaml"
HOSTILE_ID = "hostile-markup-card"
HOSTILE_INCIDENT = REPO / "tests" / "data" / "site" / "hostile-incident.yaml"
HOSTILE_INCIDENT_ID = "hostile-incident"
SEARCH_WORD = "zanzibarquokka"
CARDS = ("confident-wrong-dosage-advice", "encouraging-suicide-or-self-harm")


def make_site_kb(dest: Path, cards=CARDS, hostile: bool = True) -> Path:
    """A knowledge-base root with the repo's taxonomies (and crosswalks), vocabulary, models, scenarios,
    schemas, site configuration and the named cards, plus the hostile card."""
    dest.mkdir(parents=True, exist_ok=True)
    for sub in ("taxonomies", "vocab", "models", "scenarios", "schema", "site"):
        shutil.copytree(REPO / sub, dest / sub)
    shutil.copy(REPO / "mkdocs.yml", dest / "mkdocs.yml")
    (dest / "cards").mkdir()
    for card in cards:
        shutil.copy(REPO / "cards" / f"{card}.yaml", dest / "cards" / f"{card}.yaml")
    shutil.copytree(REPO / "incidents", dest / "incidents")
    trim_links(dest)
    if hostile:
        shutil.copy(HOSTILE, dest / "cards" / HOSTILE.name)
        shutil.copy(HOSTILE_INCIDENT, dest / "incidents" / HOSTILE_INCIDENT.name)
    return dest


def run(args: list[str], cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("RISKCARDS_ROOT", None)
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def riskcards_build(root: Path) -> subprocess.CompletedProcess:
    return run(["-m", "riskcards", "build", "--root", str(root)], cwd=root)


def add_verdict(
    root: Path,
    card_id: str,
    example_id: str,
    guard_model: str,
    label: str,
    categories=(),
    target: str = "response",
    tier: str | None = None,
) -> None:
    """Append a live-looking verdict for the example as it is now to <root>/checks/<guard>.jsonl (tmp only)."""
    record = verdict_record(root, card_id, example_id, guard_model, label, categories, target, tier)
    (root / "checks").mkdir(exist_ok=True)
    with (root / "checks" / f"{record['guard']['id']}.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def verdict_record(
    root: Path,
    card_id: str,
    example_id: str,
    guard_model: str,
    label: str,
    categories=(),
    target: str = "response",
    tier: str | None = None,
) -> dict:
    """A live-looking guard result record (guard id '<model>-test') for the example as it is now; ``tier``: a
    tiered guard's native tier, kept beside the label."""
    from riskcards.guards.hashing import cache_key, current_input_sha256
    from riskcards.validate import load_kb

    kb = load_kb(root).kb
    ex = next(e for e in kb.cards[card_id].examples if e.id == example_id)
    model = kb.models[guard_model]
    input_hash = current_input_sha256(ex, target)
    guard = {
        "id": f"{guard_model}-test",
        "adapter": model.guard.adapter or model.guard.taxonomy,
        "model": guard_model,
        "model_name": model.name,
        "revision": None,
        "taxonomy": model.guard.taxonomy,
        "transport": "openai-chat",
        "template_sha256": None,
        "params": {},
    }
    key = cache_key(
        guard_id=guard["id"],
        model_name=guard["model_name"],
        revision=None,
        transport="openai-chat",
        template_sha256=None,
        params={},
        target=target,
        input_hash=input_hash,
    )
    return {
        "schema": "riskcards.guard-result/1",
        "key": key,
        "example": {"card": card_id, "example": example_id, "target": target, "input_sha256": input_hash},
        "guard": guard,
        "verdict": {"label": label, "categories": list(categories), **({"tier": tier} if tier else {})},
        "raw": label if not categories else f"{label}\n{','.join(categories)}",
        "run": {"at": "2026-11-28T12:00:00Z", "host": "test-host", "latency_ms": 12.5, "source": "live"},
    }


DANGEROUS_SCHEMES = ("javascript:", "data:", "vbscript:")
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "background"}
EMBEDS = {"iframe", "object", "embed", "frame", "frameset", "applet", "base", "marquee", "blink", "textarea"}


class MarkupCheck(HTMLParser):
    """Finds what card text must never become: event-handler attributes, script URLs, embedded frames,
    scripts or styles carrying card payloads, and images outside the theme."""

    def __init__(self, markers=("__pwned", "alert(")) -> None:
        super().__init__(convert_charrefs=True)
        self.markers = markers
        self.problems: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler attribute")
            if name in URL_ATTRS and value:
                probe = "".join(value.split()).lower()
                if probe.startswith(DANGEROUS_SCHEMES):
                    self.problems.append(f"<{tag} {name}={value[:40]!r}> script or data URL")
            if name == "style" and value and "position:fixed" in value.replace(" ", ""):
                self.problems.append(f"<{tag} style=...> overlay from card text")
        if tag in EMBEDS:
            self.problems.append(f"<{tag}> element")
        if tag == "img":
            src = dict(attrs).get("src") or ""
            if "tracker" in src or src in ("x", ""):
                self.problems.append(f"<img src={src!r}> from card text")
        if tag not in (
            "br",
            "hr",
            "img",
            "input",
            "meta",
            "link",
            "source",
            "wbr",
            "col",
            "area",
            "path",
            "circle",
            "rect",
        ):
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if self.stack and self.stack[-1] in ("script", "style"):
            for m in self.markers:
                if m in data:
                    self.problems.append(f"<{self.stack[-1]}> holding {m!r}")


def markup_problems(html: str) -> list[str]:
    checker = MarkupCheck()
    checker.feed(html)
    checker.close()
    return checker.problems
