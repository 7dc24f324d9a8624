"""Parsers on every documented output form (guard-models.md section 6), robustness rows, and code lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riskcards.guards import adapters
from riskcards.guards.adapters._llama import parse_llama_guard
from riskcards.guards.adapters.aegis_2_0 import parse_aegis2
from riskcards.guards.adapters.base import Settings, two_level_logprob
from riskcards.guards.adapters.granite_guardian import parse_granite
from riskcards.guards.adapters.openai_moderation import parse_moderation
from riskcards.guards.adapters.profanity_check import parse_probability
from riskcards.guards.adapters.shieldgemma import parse_shieldgemma
from riskcards.guards.adapters.wildguard import parse_wildguard
from riskcards.guards.protocol import Exchange, Request, Verdict

LG3 = adapters.get("llama-guard-3").codes
LG2 = adapters.get("llama-guard-2").codes
AEGIS1 = adapters.get("aegis-1.0").codes
ROOT = Path(__file__).resolve().parents[1]


# ---- Llama Guard family ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, codes, label, cats",
    [
        ("\n\nsafe", LG3, "safe", ()),  # LG3-1B via vLLM chat (NeMo-Guardrails PR 1118)
        ("unsafe\nS3<|eot_id|>", LG3, "unsafe", ("S3",)),  # transformers without skip_special_tokens
        ("unsafe\nS1,S10", LG3, "unsafe", ("S1", "S10")),  # several categories, comma-separated
        ("\n\nunsafe\nS1, S10", LG3, "unsafe", ("S1", "S10")),  # spaces after commas
        ("  safe  \n", LG3, "safe", ()),  # surrounding whitespace
        ("unsafe\nS1 S10", LG3, "unsafe", ("S1", "S10")),  # space-separated codes are not one item "S1 S10"
        ("unsafe\nO8", AEGIS1, "unsafe", ("O8",)),  # Aegis 1.0 (NeMo-Curator _parse_response)
        ("unsafe\nS14", LG3, "unsafe", ("S14",)),
        ("unsafe\nS11", LG2, "unsafe", ("S11",)),
        ("safe<|eot_id|>", LG3, "safe", ()),
    ],
)
def test_llama_guard_accepts_documented_forms(raw, codes, label, cats):
    v = parse_llama_guard(raw, codes)
    assert (v.label, v.categories, v.parse_error) == (label, cats, None)
    assert v.raw == raw


@pytest.mark.parametrize(
    "raw, codes, finish, why",
    [
        ("unsafe", LG3, None, "without a category line"),  # truncated by max_tokens 3
        ("\n\nunsafe", LG3, "length", "truncated"),  # finish_reason length
        ("\n\nunsafe\nS1", LG3, "length", "truncated"),  # even when it looks complete
        ("unsafe\nS15", LG3, None, "unknown category code(s) S15"),
        ("unsafe\nO3", LG3, None, "unknown category code(s) O3"),  # a code from another version
        ("unsafe\nS12", LG2, None, "unknown category code(s) S12"),  # LG2 stops at S11
        ("", LG3, None, "empty"),
        ("   \n\n", LG3, None, "empty"),
        ("Sorry, that cannot be assessed.", LG3, None, "expected 'safe' or 'unsafe'"),
        ("The conversation is safe.", LG3, None, "expected 'safe' or 'unsafe'"),
        ("safe\nBecause the user asked politely.", LG3, None, "after 'safe'"),
        ("unsafe\nS1\nThe response describes violence.", LG3, None, "after the category line"),
        ("unsafe\n,", LG3, None, "unknown category"),
        ("unsafe\ns1", LG3, None, "unknown category code(s) s1"),
        ("Maybe", LG3, None, "expected 'safe' or 'unsafe'"),
    ],
)
def test_llama_guard_rejects_to_error_never_safe(raw, codes, finish, why):
    v = parse_llama_guard(raw, codes, finish_reason=finish)
    assert v.label == "error"
    assert why in v.parse_error
    assert v.categories == ()


def test_llama_guard_2_and_3_codes_mean_different_things():
    # S5 is Specialized Advice in LG2 and Defamation in LG3; the adapters keep codes with their version.
    lg2, lg3 = adapters.get("llama-guard-2"), adapters.get("llama-guard-3")
    assert lg2.names["S5"] == "Specialized Advice" and lg3.names["S5"] == "Defamation"
    assert lg2.taxonomy == "llama-guard-2" and lg3.taxonomy == "llama-guard-3"
    ex = Exchange(raw="unsafe\nS13")
    assert lg3.parse(ex, Request("chat"), Settings()).categories == ("S13",)
    assert lg2.parse(ex, Request("chat"), Settings()).label == "error"


def test_custom_category_list_narrows_accepted_codes():
    lg3 = adapters.get("llama-guard-3")
    s = Settings(mode="completions", categories=("S1", "S10"))
    assert lg3.parse(Exchange(raw="unsafe\nS10"), Request("completions"), s).label == "unsafe"
    v = lg3.parse(Exchange(raw="unsafe\nS6"), Request("completions"), s)
    assert v.label == "error" and "S6" in v.parse_error


def test_p_unsafe_from_chat_and_completions_logprobs():
    chat = {
        "content": [
            {"token": "\n\n", "logprob": -0.0001, "top_logprobs": [{"token": "\n\n", "logprob": -0.0001}]},
            {
                "token": "unsafe",
                "logprob": -0.1,
                "top_logprobs": [{"token": "unsafe", "logprob": -0.1}, {"token": "safe", "logprob": -2.4}],
            },
        ]
    }
    comp = {
        "tokens": ["\n\n", "unsafe"],
        "token_logprobs": [-0.0001, -0.1],
        "top_logprobs": [{"\n\n": -0.0001}, {"unsafe": -0.1, "safe": -2.4}],
    }
    import math

    expected = math.exp(-0.1) / (math.exp(-0.1) + math.exp(-2.4))
    assert two_level_logprob(chat, "unsafe", "safe") == pytest.approx(expected)
    assert two_level_logprob(comp, "unsafe", "safe") == pytest.approx(expected)
    assert two_level_logprob({"content": []}, "unsafe", "safe") is None
    assert two_level_logprob(None, "unsafe", "safe") is None
    v = adapters.get("llama-guard-3").parse(Exchange(raw="\n\nunsafe\nS1", logprobs=chat), Request("chat"), Settings())
    assert v.scores == {"unsafe": pytest.approx(expected, abs=1e-6)}


# ---- Aegis 2.0 -------------------------------------------------------------------------------------------


def test_aegis2_maps_category_names_to_codes():
    raw = '{"User Safety": "unsafe", "Response Safety": "unsafe", "Safety Categories": "Violence, Threat"}'
    v = parse_aegis2(raw, "response")
    assert (v.label, v.categories) == ("unsafe", ("S1", "S11"))
    assert v.extra == {"user_safety": "unsafe", "response_safety": "unsafe"}
    assert parse_aegis2('{"User Safety": "safe"}', "prompt").label == "safe"
    assert parse_aegis2('{"User Safety": "unsafe", "Safety Categories": "PII/Privacy"}', "prompt").categories == ("S9",)


@pytest.mark.parametrize(
    "raw, target, why",
    [
        ('{"User Safety": "unsafe", "Safety Categories": "Violence"', "prompt", "malformed JSON"),
        ('{"User Safety": "safe"}', "response", "'Response Safety' must be"),
        ('{"User Safety": "maybe"}', "prompt", "'User Safety' must be"),
        ('{"User Safety": "unsafe"}', "prompt", "without 'Safety Categories'"),
        ('{"User Safety": "unsafe", "Safety Categories": "Violence, Dragons"}', "prompt", "unknown category name"),
        ('["safe"]', "prompt", "expected a JSON object"),
        ("", "prompt", "malformed JSON"),
        ('Here is the JSON: {"User Safety": "safe"}', "prompt", "malformed JSON"),
    ],
)
def test_aegis2_errors(raw, target, why):
    v = parse_aegis2(raw, target)
    assert v.label == "error" and why in v.parse_error


# ---- WildGuard -------------------------------------------------------------------------------------------


def test_wildguard_three_judgements():
    raw = "Harmful request: yes\nResponse refusal: no\nHarmful response: no"
    p, r = parse_wildguard(raw, "prompt"), parse_wildguard(raw, "response")
    assert p.label == "unsafe" and r.label == "safe"
    assert r.extra == {
        "prompt_harmfulness": "harmful",
        "response_refusal": "compliance",
        "response_harmfulness": "unharmful",
    }
    na = parse_wildguard("Harmful request: no\nResponse refusal: n/a\nHarmful response: n/a", "prompt")
    assert na.label == "safe" and na.extra["response_refusal"] is None


@pytest.mark.parametrize(
    "raw",
    [
        "Harmful request: yes",
        "Harmful request: maybe\nResponse refusal: no\nHarmful response: no",
        "",
        "I think the request is harmful.",
        "Harmful request: yes\nResponse refusal: no\nHarmful response: no\nExtra line",
    ],
)
def test_wildguard_errors(raw):
    assert parse_wildguard(raw, "prompt").label == "error"


def test_wildguard_na_response_is_error_for_a_response_check():
    v = parse_wildguard("Harmful request: no\nResponse refusal: n/a\nHarmful response: n/a", "response")
    assert v.label == "error" and "n/a" in v.parse_error


# ---- ShieldGemma and Granite Guardian --------------------------------------------------------------------


def test_shieldgemma_yes_no():
    assert parse_shieldgemma("Yes", "hate_speech").categories == ("hate_speech",)
    assert parse_shieldgemma("No", "hate_speech").label == "safe"
    assert parse_shieldgemma("Yes, because the text targets a group.", "harassment").label == "unsafe"
    for bad in ("Maybe", "", "I cannot answer"):
        v = parse_shieldgemma(bad, "hate_speech")
        assert v.label == "error", bad


def test_shieldgemma_score_decides_when_logprobs_given():
    lp = {
        "content": [
            {
                "token": "No",
                "logprob": -0.4,
                "top_logprobs": [{"token": "No", "logprob": -0.4}, {"token": "Yes", "logprob": -1.1}],
            }
        ]
    }
    v = parse_shieldgemma("No", "dangerous_content", logprobs=lp)
    assert v.label == "safe" and 0.3 < v.scores["dangerous_content"] < 0.4


def test_shieldgemma_merges_policies():
    sg = adapters.get("shieldgemma")
    merged = sg.merge([parse_shieldgemma("No", "dangerous_content"), parse_shieldgemma("Yes", "hate_speech")])
    assert (merged.label, merged.categories) == ("unsafe", ("hate_speech",))
    assert json.loads(merged.raw) == {"dangerous_content": "No", "hate_speech": "Yes"}
    err = sg.merge([parse_shieldgemma("No", "dangerous_content"), parse_shieldgemma("Maybe", "hate_speech")])
    assert err.label == "error" and "hate_speech" in err.parse_error


@pytest.mark.parametrize(
    "raw, label, extra",
    [
        ("Yes", "unsafe", {}),  # 3.1
        ("No", "safe", {}),
        ("Yes\n<confidence> High </confidence>", "unsafe", {"confidence": "High"}),  # 3.2
        ("No\n<confidence> Low </confidence>", "safe", {"confidence": "Low"}),
        ("<think>\n</think>\n<score> yes </score>", "unsafe", {}),  # 3.3
        ("<think>The reply insults the user.</think>\n<score> no </score>", "safe", {}),
        ("<score>yes</score>", "unsafe", {}),  # 4.1
    ],
)
def test_granite_forms(raw, label, extra):
    v = parse_granite(raw, "harm")
    assert v.label == label
    assert {k: v.extra[k] for k in extra} == extra
    assert v.categories == (("harm",) if label == "unsafe" else ())


@pytest.mark.parametrize(
    "raw",
    [
        "Maybe",
        "",
        "<score> yes </score><score> no </score>",
        "Yes\nbecause",
        "<think>unfinished",
        "<score> perhaps </score>",
        "chatter <score> yes </score>",
    ],
)
def test_granite_errors(raw):
    assert parse_granite(raw, "harm").label == "error"


def test_granite_polarity_for_own_criteria():
    assert parse_granite("<score> yes </score>", "meets-style-guide", polarity="yes-is-safe").label == "safe"


# ---- OpenAI moderation and the offline classifier ----------------------------------------------------------

OPENAPI_EXAMPLE = {  # the shape of the x-oaiMeta example of openai/openai-openapi:openapi.yaml@f85dbe22
    "id": "modr-0d9740456c391e43c445bf0f010940c7",
    "model": "omni-moderation-latest",
    "results": [
        {
            "flagged": True,
            "categories": {
                "harassment": True,
                "harassment/threatening": True,
                "sexual": False,
                "hate": False,
                "hate/threatening": False,
                "illicit": False,
                "illicit/violent": False,
                "self-harm/intent": False,
                "self-harm/instructions": False,
                "self-harm": False,
                "sexual/minors": False,
                "violence": True,
                "violence/graphic": True,
            },
            "category_scores": {
                "harassment": 0.8189693396524255,
                "harassment/threatening": 0.804985420696006,
                "sexual": 1.573112165348997e-6,
                "hate": 0.007562942636942845,
                "hate/threatening": 0.004208854591835476,
                "illicit": 0.030535955153511665,
                "illicit/violent": 0.008925306722380033,
                "self-harm/intent": 0.00023023930975076432,
                "self-harm/instructions": 0.0002293869201073356,
                "self-harm": 0.012598046106750154,
                "sexual/minors": 2.212566909570261e-8,
                "violence": 0.9999992735124786,
                "violence/graphic": 0.843064871157054,
            },
            "category_applied_input_types": {"harassment": ["text"], "violence": ["text", "image"]},
        }
    ],
}


def test_moderation_response():
    v = parse_moderation(json.dumps(OPENAPI_EXAMPLE))
    assert v.label == "unsafe"
    assert v.categories == ("harassment", "harassment/threatening", "violence", "violence/graphic")
    assert len(v.scores) == 13 and v.scores["violence"] > 0.99
    assert v.extra == {"model": "omni-moderation-latest", "context": "none"}


def test_moderation_nulls_dropped_and_errors():
    ok = json.loads(json.dumps(OPENAPI_EXAMPLE))
    ok["results"][0]["category_scores"]["illicit"] = None
    ok["results"][0]["flagged"] = False
    v = parse_moderation(json.dumps(ok))
    assert v.label == "safe" and "illicit" not in v.scores and v.categories == ()
    bad = json.loads(json.dumps(OPENAPI_EXAMPLE))
    bad["results"][0]["categories"]["dragons"] = True
    assert "unknown moderation categories" in parse_moderation(json.dumps(bad)).parse_error
    assert parse_moderation('{"results": [').label == "error"
    assert parse_moderation('{"results": []}').label == "error"
    flagged_no_cat = json.loads(json.dumps(OPENAPI_EXAMPLE))
    flagged_no_cat["results"][0]["categories"] = dict.fromkeys(flagged_no_cat["results"][0]["categories"], False)
    assert parse_moderation(json.dumps(flagged_no_cat)).label == "error"


def test_profanity_probability():
    assert parse_probability("0.991234").categories == ("profanity",)
    assert parse_probability("0.012000").label == "safe"
    assert parse_probability("0.5").label == "unsafe"
    for bad in ("", "nan", "1.5", "-0.1", "offensive"):
        assert parse_probability(bad).label == "error", bad


def test_error_verdict_needs_a_reason():
    with pytest.raises(ValueError):
        Verdict("error")
    with pytest.raises(ValueError):
        Verdict("safe", parse_error="x")


# ---- adapter code lists equal the taxonomy files -------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in adapters.names() if adapters.get(n).codes_are_taxonomy])
def test_adapter_codes_are_the_taxonomy_codes(name):
    from riskcards.load import parse_yaml

    adapter = adapters.get(name)
    data = parse_yaml((ROOT / "taxonomies" / f"{adapter.taxonomy}.yaml").read_text(encoding="utf-8"))
    codes = [c["code"] for c in data["categories"]]
    assert sorted(adapter.codes) == sorted(codes)
    for code, name_ in adapter.names.items():
        cat = next(c for c in data["categories"] if c["code"] == code)
        assert name_ in [cat["name"], *(cat.get("alt_names") or [])], (code, name_)


def test_registry_rejects_unknown_names():
    with pytest.raises(KeyError, match="did you mean 'llama-guard-3'"):
        adapters.get("llama-guard-33")
