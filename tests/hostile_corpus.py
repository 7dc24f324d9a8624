"""A generated corpus of hostile inputs for `riskcards validate` (issue 16), deterministic, built at test time.

Each input is one file (name and bytes) in a record folder. Families:

* type confusion: every list, mapping and scalar of one valid record of every kind replaced by values of
  other types (None, numbers, strings, lists, mappings, nested None);
* control characters: every C0 (but tab and newline), DEL and C1 character, in a value, a key and a URL;
* forged lines: line breaks (LF, CR, U+2028, NEL) and ANSI escapes in keys, echoed values and file names;
* URLs: malformed hosts, brackets, ports, escaped NUL, upper-case schemes (which are fine);
* YAML numbers: every spelling of .nan and .inf, as values and keys;
* huge numbers, deep nesting, alias depth, complex keys, alias fan-out;
* legitimate values that used to be refused (SPDX expressions with parentheses, upper-case URL schemes).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

RECORDS = {  # one valid record of every kind: (folder, file stem)
    "card": ("cards", "confident-wrong-dosage-advice"),
    "taxonomy": ("taxonomies", "weidinger-2021"),
    "crosswalk": ("taxonomies/crosswalks", "aegis-1.0--mlcommons-ailuminate-v1.0"),
    "scenario": ("scenarios", "medical-question-answering"),
    "model": ("models", "llama-guard-3-8b"),
}
CONFUSERS: list = [None, 7, "x", [], {}, [None], {"a": 1}, [[{}]]]
CONTROLS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))]
BREAKS = ["\n", "\r", "\r\n", "\u2028", "\u2029", "\x85", "\x1b[2K\r"]
FORGED = "cards/forged.yaml:1:1: forged problem"


def base(kind: str) -> dict:
    folder, stem = RECORDS[kind]
    return yaml.safe_load((REPO / folder / f"{stem}.yaml").read_text(encoding="utf-8"))


def dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=False, sort_keys=False, width=10_000)


def _paths(node, path=()) -> Iterator[tuple]:
    """Every path in the data; the first three items of a list stand for the rest."""
    if path:
        yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            yield from _paths(v, (*path, i))


def _set(data, path, value):
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _renamed(kind: str, data: dict, n: int) -> tuple[str, str, dict]:
    folder, stem = RECORDS[kind]
    new_id = f"{stem}-h{n}"
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        data["id"] = new_id
    return folder, new_id, data


def type_confusion() -> Iterator[tuple[str, str, str]]:
    """(folder, id, text): every path of every record kind with every confuser."""
    n = 0
    for kind in RECORDS:
        original = base(kind)
        for path in _paths(original):
            for value in CONFUSERS:
                data = copy.deepcopy(original)
                _set(data, path, copy.deepcopy(value))
                n += 1
                folder, new_id, data = _renamed(kind, data, n)
                yield folder, new_id, dump(data)


def card_variants() -> Iterator[tuple[str, str]]:
    """(stem suffix, YAML text) of cards with hostile values, each a change of one valid card."""
    card = base("card")

    def with_(**fields) -> str:
        data = copy.deepcopy(card)
        data.update(fields)
        return dump(data)

    for i, ch in enumerate(CONTROLS):
        yield f"ctl-value-{i}", with_(title=f"a{ch}b")
        yield f"ctl-key-{i}", dump({**card, f"k{ch}ey": 1})
        refs = [{"title": "t", "url": f"https://example.org/a{ch}b"}]
        yield f"ctl-url-{i}", with_(references=refs)
    for i, br in enumerate(BREAKS):
        yield f"forge-key-{i}", dump({**card, f"x{br}{FORGED}": 1})
        yield f"forge-enum-{i}", with_(status=f"draft{br}{FORGED}")
        yield f"forge-value-{i}", with_(version=f"1.0{br}{FORGED}")
        yield f"forge-ref-{i}", with_(placements=[{"ref": f"weidinger-2021:W1{br}{FORGED}"}])
    urls = [
        "http://[",
        "http://]",
        "http://[::1",
        "http://a[b]c.org/",
        "https://[zz]/",
        "http://example.org:99999/",
        "http://example.org:-1/",
        "http://example.org:port/",
        "http://",
        "https:///path",
        "ftp://example.org/",
        "javascript:alert(1)",
        "http://ex ample.org/",
        "http://example.org/\\x",
        "http://exa\u0000mple.org/",
        "http://%00.org/",
        "http://[::1]:80:80/",
        "http://user@[::1/",
        "HTTP://[",
        "http://" + "a" * 5000 + ".org/",
    ]
    for i, url in enumerate(urls):
        yield f"url-{i}", with_(references=[{"title": "t", "url": url}])
    spellings = [".nan", ".NaN", ".NAN", ".Nan", ".inf", ".Inf", ".INF", "-.inf", "+.inf", "-.Inf", ".iNf", "-.INF"]
    text = dump(card)
    for i, sp in enumerate(spellings):
        yield f"nan-value-{i}", text.replace("\ntitle:", f"\ndeprecated_reason: {sp}\ntitle:", 1)
        yield f"nan-key-{i}", text + f"{sp}: 1\n"
        yield f"nan-list-{i}", text + f"tags: [{sp}]\n"
    for i, digits in enumerate((19, 21, 400, 4301, 5000, 20000)):
        yield f"bigint-{i}", text.replace("\nversion: ", f"\nversion: {'9' * digits}\nxversion: ", 1)
        yield f"bigver-{i}", text.replace("\nversion: ", f"\nversion: '1.{'9' * digits}.0'\nxversion: ", 1)
        yield f"bigchangelog-{i}", with_(version="1." + "9" * digits + ".0")
    for depth in (50, 200, 2000, 20000):
        yield f"deep-flow-{depth}", text + "tags: " + "[" * depth + "]" * depth + "\n"
        yield f"deep-map-{depth}", text + "x:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, min(depth, 400)))
    yield "complex-key-list", text + "? [a, b]\n: 1\n"
    yield "complex-key-map", text + "? {a: 1}\n: 1\n"
    yield "complex-key-nested", text.replace("\ntitle:", "\nharm_types:\n  ? [a]\n  : b\ntitle:", 1)
    for n in (2, 10, 40):
        chain = "a0: &a0 [x, x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, n))
        yield f"alias-depth-{n}", text + chain
    for size, count in ((1000, 10), (100_000, 60), (400_000, 2), (900, 1000)):
        yield (
            f"alias-fanout-{size}-{count}",
            (text + f"x: &big '{'y' * size}'\n" + "z: [" + ", ".join(["*big"] * count) + "]\n"),
        )
    yield (
        "alias-map-fanout",
        text
        + "m: &m {"
        + ", ".join(f"k{i}: {'v' * 50}" for i in range(2000))
        + "}\n"
        + ("n: [" + ", ".join(["*m"] * 100) + "]\n"),
    )
    for i, extra in enumerate(("a: 1\n" * 3, "- x\n", "'unterminated\n", "\t- tab\n", "!!python/object:os.system x\n")):
        yield f"junk-{i}", text + extra
    yield "many-keys", text + "".join(f"unknown{i}: 1\n" for i in range(3000))


LEGITIMATE = {
    "license": "MIT OR (Apache-2.0 AND BSD-3-Clause)",
    "url": "HTTPS://EXAMPLE.COM/",
}


# --------------------------------------------------------------------------------------------------
# Guard results: hostile lines in checks/*.jsonl
# --------------------------------------------------------------------------------------------------

SECRETS = (  # shaped like real keys and tokens, none of them real
    "sk-" + "A1b2C3d4E5f6G7h8J9k0" * 2,
    "hf_" + "Zq9Xw8Vu7Ts6Rr5Qp4On",
    "ghp_" + "0123456789abcdefABCDEF0123",
    "AKIA" + "ABCDEFGHIJKLMNOP",
    "Bearer " + "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
)


def guard_result() -> dict:
    """One valid guard result record (the first of the project's committed checks)."""
    line = (REPO / "checks" / "profanity-check.jsonl").read_text(encoding="utf-8").splitlines()[0]
    import json

    return json.loads(line)


def checks_corpus() -> Iterator[tuple[str, bytes, str | None]]:
    """(name, hostile line as bytes without its newline, secret it holds or None). Each goes into a results
    file after one valid line, so its problem belongs on line 2."""
    import json

    rec = guard_result()

    def with_(path: tuple, value) -> bytes:
        data = copy.deepcopy(rec)
        _set(data, path, value)
        return json.dumps(data, ensure_ascii=False).encode("utf-8")

    valid = json.dumps(rec).encode()
    for i, ch in enumerate(CONTROLS):
        esc = json.dumps(ch)[1:-1]
        raw = "raw" if ch < " " else "rawjson"  # JSON forbids raw C0 in strings; DEL and C1 are valid JSON text
        yield f"checks-ctl-{raw}-{i}", valid.replace(b'"raw": "', b'"raw": "' + ch.encode("utf-8"), 1), None
        yield f"checks-ctl-key-{i}", with_(("verdict", f"x{ch}y"), 1), None
        yield f"checks-ctl-id-{i}", with_(("example", "card"), f"a{ch}b"), None
        yield f"checks-ctl-esc-{i}", valid.replace(b'"host": "', f'"host": "{esc}'.encode(), 1), None
    for i, br in enumerate(BREAKS):
        yield f"checks-forge-{i}", with_(("example", "card"), f"x{br}{FORGED}"), None
        yield f"checks-forge-key-{i}", with_(("run", f"k{br}{FORGED}"), 1), None
        yield f"checks-forge-raw-{i}", valid + br.encode("utf-8") + FORGED.encode(), None
    bad_json = [
        b"{",
        b"[",
        b"}",
        b"null",
        b"[]",
        b"{}",
        b"7",
        b'"just a string"',
        b"{'single': 'quotes'}",
        b'{"schema": NaN}',
        b'{"schema": Infinity}',
        valid[: len(valid) // 2],
        valid + b"}",
        valid + b" trailing",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b"1" * 5000,
        b"1e99999",
        b'{"schema": ' + b"9" * 5000 + b"}",
        b"\xef\xbb\xbf" + valid,
        b"\xff\xfe" + valid,
        valid.replace(b'"safe"', b'"s\xc3"', 1),
        valid.replace(b'"vm"', b'"v\x00m"', 1),
        b"\x00" * 100,
        valid.replace(b'"schema": "riskcards.guard-result/1"', b'"schema": "riskcards.guard-result/999"', 1),
        with_(("run", "source"), "test-double"),
        with_(("verdict", "label"), "maybe"),
        with_(("example", "input_sha256"), "sha256:" + "z" * 64),
        with_(("run", "latency_ms"), float("nan")),
    ]
    for i, line in enumerate(bad_json):
        yield f"checks-badjson-{i}", line, None
    for i, size in enumerate((1_100_000, 3_000_000)):
        yield f"checks-huge-{i}", with_(("raw",), "x" * size), None
    yield "checks-huge-bare", b"y" * 2_000_000, None
    for i, secret in enumerate(SECRETS):
        yield f"checks-secret-value-{i}", with_(("raw",), f"HTTP 401: header Authorization: {secret} refused"), secret
        yield f"checks-secret-error-{i}", with_(("run", "error"), f"api_key={secret}"), secret
        yield f"checks-secret-key-{i}", with_(("verdict", "extra", secret), "x"), secret
        yield f"checks-secret-badjson-{i}", f'{{"raw": "{secret}", '.encode(), secret
        yield f"checks-secret-card-{i}", with_(("example", "card"), secret), secret
