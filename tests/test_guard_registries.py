"""Adding a guard adapter or a transport is adding one file: each is found by its registry and used by the
config check, `guard list`, `guard run`, the stored records, `guard import` and coverage, with no other edit.

The test writes a dummy adapter and a dummy transport as module files into folders on the two packages'
search paths (as a contributor would add a file to riskcards/guards/adapters/ or transports/)."""

from __future__ import annotations

import json

import pytest
from guard_kit import make_kb
from typer.testing import CliRunner

from riskcards.cli import app
from riskcards.guards import adapters, transports

ADAPTER = """
from riskcards.guards.adapters import register
from riskcards.guards.adapters.base import Adapter
from riskcards.guards.protocol import Request, Verdict


@register
class ShoutAdapter(Adapter):
    name = "dummy-shout"
    family = "dummy-shout"
    taxonomy = "profanity-check"
    modes = ("echo",)
    codes = ("profanity",)
    description = "Test adapter: unsafe when the judged text is in capitals."

    def requests(self, inp, settings):
        return [Request("echo", prompt=inp.judged_text)]

    def parse(self, exchange, request, settings):
        raw = exchange.raw
        if raw not in ("LOUD", "quiet"):
            return Verdict.error(raw, "expected LOUD or quiet")
        return Verdict("unsafe", ("profanity",), {}, raw) if raw == "LOUD" else Verdict("safe", (), {}, raw)
"""

TRANSPORT = """
from riskcards.guards.protocol import Exchange
from riskcards.guards.transports import register
from riskcards.guards.transports.base import TransportBase


@register
class EchoTransport(TransportBase):
    name = "dummy-echo"
    modes = ("echo",)
    requires = ("model_path",)
    description = "Test transport: answers LOUD for text in capitals, else quiet."
    sent = []

    @classmethod
    def open(cls, config, *, source=None):
        t = cls()
        t.test_double = config.test_double
        return t

    @classmethod
    def revision_of(cls, config, *, source=None):
        return "echo-rev-1"

    @classmethod
    def endpoint(cls, config):
        return f"echo:{config.model_path.name}"

    def send(self, request, *, model, params):
        type(self).sent.append(request.prompt)
        loud = request.prompt.isupper()
        return Exchange(raw="LOUD" if loud else "quiet", test_double=self.test_double)
"""

CONFIG = """guards:
  shout:
    adapter: dummy-shout
    model: alt-profanity-check
    transport: dummy-echo
    model_path: somewhere
{extra}"""


@pytest.fixture
def plugged(tmp_path, monkeypatch):
    """The two files, found through the packages' search paths; the registries are restored afterwards."""
    extra_a, extra_t = tmp_path / "more_adapters", tmp_path / "more_transports"
    extra_a.mkdir()
    extra_t.mkdir()
    (extra_a / "dummy_shout.py").write_text(ADAPTER, encoding="utf-8")
    (extra_t / "dummy_echo.py").write_text(TRANSPORT, encoding="utf-8")
    adapters.names(), transports.names()  # the shipped ones first
    monkeypatch.setattr(adapters, "__path__", [*adapters.__path__, str(extra_a)])
    monkeypatch.setattr(transports, "__path__", [*transports.__path__, str(extra_t)])
    monkeypatch.setattr(adapters, "_loaded", False)
    monkeypatch.setattr(transports, "_loaded", False)
    monkeypatch.setattr(adapters, "REGISTRY", dict(adapters.REGISTRY))
    monkeypatch.setattr(transports, "REGISTRY", dict(transports.REGISTRY))
    yield
    import sys

    for name in ("riskcards.guards.adapters.dummy_shout", "riskcards.guards.transports.dummy_echo"):
        sys.modules.pop(name, None)


def test_a_new_adapter_and_transport_are_used_everywhere(plugged, tmp_path):
    root = make_kb(tmp_path)
    (root / "guards.yaml").write_text(CONFIG.format(extra=""), encoding="utf-8")
    cli = CliRunner()
    # listed
    listed = cli.invoke(app, ["guard", "list", "--adapters", "--format", "json"])
    assert "dummy-shout" in [r["adapter"] for r in json.loads(listed.output)]
    listed = cli.invoke(app, ["guard", "list", "--transports", "--format", "json"])
    row = next(r for r in json.loads(listed.output) if r["transport"] == "dummy-echo")
    assert row["modes"] == ["echo"] and row["requires"] == ["model_path"]
    listed = cli.invoke(app, ["guard", "list", "--root", str(root), "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)[0]["endpoint"] == "echo:somewhere"
    # run: the adapter formats and parses, the transport sends; the records name both
    card = root / "cards" / "guard-test-card.yaml"
    card.write_text(card.read_text().replace('"[[S10]] Platzhalter."', '"THIS IS SHOUTED."'), encoding="utf-8")
    run = cli.invoke(app, ["guard", "run", "shout", "--root", str(root)])
    assert run.exit_code == 0, run.output
    lines = [json.loads(x) for x in (root / "checks" / "shout.jsonl").read_text().splitlines()]
    assert lines and {x["guard"]["transport"] for x in lines} == {"dummy-echo"}
    assert {x["guard"]["adapter"] for x in lines} == {"dummy-shout"}
    assert {x["guard"]["revision"] for x in lines} == {"echo-rev-1"}
    assert [x for x in lines if x["verdict"]["label"] == "unsafe"], "the shouted example is flagged"
    assert transports.get("dummy-echo").sent, "the dummy transport carried the requests"
    # import: re-parsed with the adapter (a single-call adapter), so a forged label is caught
    safe = next(x for x in lines if x["verdict"]["label"] == "safe")
    forged = dict(safe, verdict={**safe["verdict"], "label": "unsafe", "categories": ["profanity"]})
    forged_path = tmp_path / "forged.jsonl"
    forged_path.write_text(json.dumps(forged) + "\n", encoding="utf-8")
    out = cli.invoke(app, ["guard", "import", str(forged_path), "--root", str(root)])
    assert out.exit_code != 0 and "parses as safe" in out.output, out.output
    # coverage: a column for the guard, with its verdicts
    cov = cli.invoke(app, ["coverage", "--root", str(root), "--guard", "shout", "--format", "json"])
    assert cov.exit_code == 0, cov.output
    assert "shout" in cov.output


def test_config_checks_come_from_the_transport(plugged, tmp_path):
    from riskcards.guards.config import ConfigError, load_config

    root = make_kb(tmp_path)
    (root / "guards.yaml").write_text(CONFIG.format(extra="").replace("    model_path: somewhere\n", ""))
    with pytest.raises(ConfigError, match="transport 'dummy-echo' needs 'model_path'"):
        load_config(root / "guards.yaml", root)
    (root / "guards.yaml").write_text(CONFIG.format(extra="").replace("dummy-echo", "dummy-ech"))
    with pytest.raises(ConfigError, match="no transport named 'dummy-ech'.*did you mean 'dummy-echo'"):
        load_config(root / "guards.yaml", root)
    (root / "guards.yaml").write_text(CONFIG.format(extra="    mode: chat\n"))
    with pytest.raises(ConfigError, match="transport 'dummy-echo' carries mode 'echo'"):
        load_config(root / "guards.yaml", root)


def test_a_test_double_transport_never_writes_into_checks(plugged, tmp_path):
    root = make_kb(tmp_path)
    (root / "guards.yaml").write_text(CONFIG.format(extra="    test_double: true\n"), encoding="utf-8")
    run = CliRunner().invoke(app, ["guard", "run", "shout", "--root", str(root)])
    assert run.exit_code != 0 and "test double" in run.output
    assert not (root / "checks" / "shout.jsonl").exists() or not (root / "checks" / "shout.jsonl").read_text()
    scratch = tmp_path / "scratch"
    run = CliRunner().invoke(app, ["guard", "run", "shout", "--root", str(root), "--out", str(scratch)])
    assert run.exit_code == 0, run.output
    assert {json.loads(x)["run"]["source"] for x in (scratch / "shout.jsonl").read_text().splitlines()} == {"stub"}


def test_the_transport_api_outside_guards(tmp_path, monkeypatch):
    """The assessment reaches target models through the same registry: by name, keys only from env vars."""
    from riskcards.guards.protocol import Request, TransportError
    from riskcards.guards.transports import TransportConfig, open_transport

    with pytest.raises(TransportError, match="needs 'base_url'"):
        open_transport(TransportConfig("openai-chat"))
    monkeypatch.delenv("RISKCARDS_NO_SUCH_KEY", raising=False)
    with pytest.raises(TransportError, match="set the environment variable RISKCARDS_NO_SUCH_KEY"):
        open_transport(
            TransportConfig("openai-chat", base_url="http://127.0.0.1:9/v1", api_key_env="RISKCARDS_NO_SUCH_KEY")
        )
    with pytest.raises(KeyError, match="did you mean 'openai-chat'"):
        open_transport(TransportConfig("openai-chatt"))
    t = open_transport(TransportConfig("python", entry="string:capwords", test_double=True))
    ex = t.send(Request("python", prompt="hello there"), model="x", params={})
    assert ex.raw == "Hello There" and ex.test_double
