"""Checks of a card against the rest of the knowledge base: harm types, placements, examples and their
guard expectations, scenarios, references, status fields and changelog; and card ids against aliases."""

from __future__ import annotations

from .. import ids
from ..ids import semver
from ..kb import KnowledgeBase
from ..models import Card
from . import evidence
from .common import Files, check_ref, date_of, dupes, harm_type_problems, url_problem


def check(kb: KnowledgeBase, card: Card, shown: str, files: Files, add) -> None:
    actors, cats = kb.actors(), kb.harm_categories()
    guards = kb.guards()
    guard_codes = kb.guard_codes()
    vocab = kb.vocab is not None
    for i, ht in enumerate(card.harm_types or []):
        if ht is None:
            continue
        for sub, message, check_name in harm_type_problems(ht, actors if vocab else None, cats if vocab else None):
            add(files.at(shown, ("harm_types", i, *sub), message, check_name))
    if kb.vocab is not None:
        dupes(
            card.harm_types or [],
            lambda h: (h.actor, h.category or h.unresolved),
            lambda i: ("harm_types", i),
            "harm type",
            shown,
            files,
            add,
        )

    for i, pl in enumerate(card.placements):
        if pl is None:
            continue
        check_ref(kb, pl.ref, shown, ("placements", i, "ref"), files, add)
    dupes(card.placements, lambda p: p.ref, lambda i: ("placements", i, "ref"), "placement", shown, files, add)

    dupes(card.examples, lambda e: e.id, lambda i: ("examples", i, "id"), "example id", shown, files, add)
    for i, ex in enumerate(card.examples):
        if ex is None:
            continue
        base = ("examples", i)
        has_text = [f for f in ("prompt", "output", "turns") if getattr(ex, f) is not None]
        if ex.sensitivity == "withheld":
            for f in has_text:
                add(
                    files.at(
                        shown,
                        (*base, f),
                        f"a withheld example carries no text; remove '{f}' and keep only 'withheld_reason'",
                        "withheld",
                    )
                )
            if not ex.withheld_reason:
                add(
                    files.at(
                        shown,
                        (*base, "sensitivity"),
                        "a withheld example needs 'withheld_reason': say why the text is not published",
                        "withheld",
                    )
                )
        else:
            if ex.withheld_reason:
                add(
                    files.at(
                        shown,
                        (*base, "withheld_reason"),
                        f"'withheld_reason' is only for withheld examples; this one is '{ex.sensitivity}'",
                        "withheld",
                    )
                )
            if ex.turns is not None and (ex.prompt is not None or ex.output is not None):
                add(
                    files.at(
                        shown,
                        (*base, "turns"),
                        "write either 'prompt' and 'output' or 'turns', not both",
                        "example-text",
                    )
                )
            elif ex.turns is None and ex.prompt is None:
                add(
                    files.at(
                        shown,
                        base,
                        "example needs 'prompt' (with 'output', or alone for a probe), or a conversation in "
                        "'turns', or sensitivity: withheld",
                        "example-text",
                    )
                )
            elif (
                ex.turns is not None
                and not any(t is not None and t.role == "assistant" for t in ex.turns)
                and (ex.turns[-1] is None or ex.turns[-1].role != "user")
            ):
                add(
                    files.at(
                        shown,
                        (*base, "turns"),
                        "a conversation shows the model's behaviour in an 'assistant' turn, or, as a probe with "
                        "no recorded output, ends with the 'user' turn to send",
                        "example-text",
                        key=True,
                    )
                )
            if ex.sensitivity == "defanged":
                texts = [ex.prompt or "", ex.output or "", *(t.content for t in ex.turns or [])]
                if not any("[redacted" in t for t in texts):
                    add(
                        files.at(
                            shown,
                            (*base, "sensitivity"),
                            (
                                "a defanged example marks what was removed with "
                                "'[redacted: what]'; add the marker or use sensitivity: full"
                            ),
                            "defanged",
                        )
                    )
        prov = ex.provenance
        if prov.kind == "observed":
            if prov.model != "unknown" and prov.model not in kb.models:
                add(
                    files.at(
                        shown,
                        (*base, "provenance", "model"),
                        (
                            f"unknown model '{prov.model}'{ids.did_you_mean(prov.model, kb.models)}; "
                            f"add models/{prov.model}.yaml or write 'model: unknown' with 'model_name'"
                        ),
                        "unknown-model",
                    )
                )
            if prov.date and date_of(prov.date) is None:
                add(files.at(shown, (*base, "provenance", "date"), f"'{prov.date}' is not a real date", "date"))
        seen_exp: set = set()
        withheld = ex.sensitivity == "withheld"
        probe = ex.is_probe
        for j, exp in enumerate(ex.expected):  # the hot loop of validation: ~14 expectations a card
            codes = guard_codes.get(exp.guard)
            if codes is None:
                hint = ids.did_you_mean(exp.guard, guards)
                add(
                    files.at(
                        shown,
                        (*base, "expected", j, "guard"),
                        f"'{exp.guard}' is not a guard model{hint}; guards are model records with a 'guard' section",
                        "unknown-guard",
                    )
                )
            elif exp.categories:
                for k, code in enumerate(exp.categories):
                    info = guards[exp.guard].guard
                    if code not in codes and info is not None:
                        taxonomy = info.taxonomy
                        add(
                            files.at(
                                shown,
                                (*base, "expected", j, "categories", k),
                                (
                                    f"'{code}' is not a category of {taxonomy} (the "
                                    f"taxonomy of {exp.guard}){ids.did_you_mean(code, codes)}"
                                ),
                                "unknown-code",
                            )
                        )
            if exp.categories and exp.verdict == "safe":
                add(
                    files.at(
                        shown,
                        (*base, "expected", j, "categories"),
                        "categories go with verdict 'unsafe'; remove them or expect 'unsafe'",
                        "expectation",
                    )
                )
            key = (exp.guard, exp.target)
            if key in seen_exp:
                add(
                    files.at(
                        shown,
                        (*base, "expected", j, "guard"),
                        f"a second expectation for guard '{exp.guard}' on the {exp.target}; keep one",
                        "expectation",
                    )
                )
            seen_exp.add(key)
            if withheld:
                add(
                    files.at(
                        shown,
                        (*base, "expected", j, "guard"),
                        "a withheld example has no text for a guard to classify; remove 'expected'",
                        "expectation",
                    )
                )
            elif probe and exp.target == "response":
                add(
                    files.at(
                        shown,
                        (*base, "expected", j, "target"),
                        "this example is a probe (no recorded output), so a guard can only classify its prompt; "
                        "write 'target: prompt'",
                        "expectation",
                    )
                )

    for i, link in enumerate(card.scenarios):
        if link is None:
            continue
        if link.scenario not in kb.scenarios:
            add(
                files.at(
                    shown,
                    ("scenarios", i, "scenario"),
                    (
                        f"unknown scenario '{link.scenario}'{ids.did_you_mean(link.scenario, kb.scenarios)}; "
                        "scenarios are the files in scenarios/"
                    ),
                    "unknown-scenario",
                )
            )
    dupes(card.scenarios, lambda s: s.scenario, lambda i: ("scenarios", i, "scenario"), "scenario", shown, files, add)

    for i, ref in enumerate(card.references):
        if ref is None:
            continue
        if ref.url is None and ref.doi is None:
            add(
                files.at(
                    shown, ("references", i), "a reference needs a 'url' or a 'doi' so readers can find it", "reference"
                )
            )
        if ref.url is not None and (why := url_problem(ref.url)):
            add(files.at(shown, ("references", i, "url"), f"URL {why}", "url"))

    if isinstance(card.license, str) and (why := ids.spdx_problem(card.license)):
        add(files.at(shown, ("license",), f"licence expression {why}", "license"))

    evidence.check_card(kb, card, lambda path, msg, check: files.at(shown, path, msg, check), add)
    _check_lifecycle(kb, card, shown, files, add)


def _check_lifecycle(kb: KnowledgeBase, card: Card, shown: str, files: Files, add) -> None:
    created = date_of(card.created)
    if created is None and card.created is not None:
        add(files.at(shown, ("created",), f"'{card.created}' is not a real date", "date"))
    if card.last_reviewed is not None:
        reviewed = date_of(card.last_reviewed)
        if reviewed is None:
            add(files.at(shown, ("last_reviewed",), f"'{card.last_reviewed}' is not a real date", "date"))
        elif created and reviewed < created:
            add(
                files.at(
                    shown,
                    ("last_reviewed",),
                    f"last_reviewed {card.last_reviewed} is before created {card.created}",
                    "date",
                )
            )
    if card.status == "reviewed":
        if not card.reviewers:
            add(files.at(shown, ("status",), "status 'reviewed' needs 'reviewers' (who reviewed it)", "lifecycle"))
        if card.last_reviewed is None:
            add(files.at(shown, ("status",), "status 'reviewed' needs 'last_reviewed' (when, YYYY-MM-DD)", "lifecycle"))
    if card.status == "deprecated" and not card.deprecated_reason:
        add(
            files.at(
                shown, ("status",), "status 'deprecated' needs 'deprecated_reason' (why it was retired)", "lifecycle"
            )
        )
    if card.status != "deprecated" and card.deprecated_reason:
        add(
            files.at(
                shown,
                ("deprecated_reason",),
                f"'deprecated_reason' is only for deprecated cards; this one is '{card.status}'",
                "lifecycle",
            )
        )
    if card.superseded_by is not None:
        target = kb.cards.get(card.superseded_by)
        if card.superseded_by == card.id:
            add(files.at(shown, ("superseded_by",), "a card cannot supersede itself", "lifecycle"))
        elif target is None:
            add(
                files.at(
                    shown,
                    ("superseded_by",),
                    (
                        f"superseded_by '{card.superseded_by}' is not a "
                        f"card{ids.did_you_mean(card.superseded_by, kb.cards)}"
                    ),
                    "unknown-card",
                )
            )
        elif target.status == "deprecated":
            add(
                files.at(
                    shown,
                    ("superseded_by",),
                    f"superseded_by '{card.superseded_by}' is itself deprecated; point at a live card",
                    "lifecycle",
                )
            )
        if card.status != "deprecated":
            add(
                files.at(
                    shown,
                    ("superseded_by",),
                    "only a deprecated card has 'superseded_by'; set status: deprecated with a reason",
                    "lifecycle",
                )
            )
    versions = [e.version if e is not None else None for e in card.changelog]
    for i, entry in enumerate(card.changelog):
        if entry is None:  # not a valid entry; its schema problem is reported
            continue
        if date_of(entry.date) is None:
            add(files.at(shown, ("changelog", i, "date"), f"'{entry.date}' is not a real date", "date"))
        if versions.count(entry.version) > 1 and versions.index(entry.version) != i:
            add(
                files.at(
                    shown,
                    ("changelog", i, "version"),
                    f"version {entry.version} appears twice in the changelog",
                    "lifecycle",
                )
            )
    if (
        versions
        and versions[-1] is not None
        and card.version is not None
        and semver(versions[-1]) > semver(card.version)
    ):
        add(
            files.at(
                shown,
                ("version",),
                f"version {card.version} is older than the newest changelog entry ({versions[-1]}); bump it",
                "lifecycle",
            )
        )


def check_aliases(kb: KnowledgeBase, files: Files, add) -> None:
    """Card ids and aliases share one namespace: an alias never names another card or a second alias."""
    owner: dict[str, str] = {cid: cid for cid in kb.cards}
    for cid, card in kb.cards.items():
        shown = kb.paths[("card", cid)]
        for i, alias in enumerate(card.aliases):
            if alias == cid:
                add(files.at(shown, ("aliases", i), "a card's alias cannot be its own id", "alias"))
            elif alias in owner and owner[alias] != cid:
                other = owner[alias]
                what = "the id of card" if alias == other else "already an alias of card"
                add(
                    files.at(
                        shown,
                        ("aliases", i),
                        f"alias '{alias}' is {what} '{other}'; ids and aliases are unique across the knowledge base",
                        "alias",
                    )
                )
            else:
                owner[alias] = cid
