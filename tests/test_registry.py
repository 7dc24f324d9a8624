"""riskcards/registry.py, the one registry behind guard adapters and transports: names, lookups with the
nearest names, and a second class under a taken name refused (each with the package's own words)."""

from __future__ import annotations

import pytest

from riskcards.guards import adapters, transports
from riskcards.guards.adapters.base import Adapter
from riskcards.guards.transports.base import TransportBase


def test_names_list_the_shipped_entries_of_each_package():
    assert {"llama-guard-3", "wildguard", "profanity-check"} <= set(adapters.names())
    assert {"openai-chat", "openai-completions", "python"} <= set(transports.names())
    assert adapters.names() == sorted(adapters.REGISTRY) and transports.names() == sorted(transports.REGISTRY)


def test_lookups_name_the_nearest_and_all_known_entries():
    assert adapters.get("wildguard").name == "wildguard"  # an instance
    assert transports.get("openai-chat").name == "openai-chat"  # a class
    with pytest.raises(
        KeyError, match=r"no guard adapter named 'wildgaurd' \(did you mean 'wildguard'.*; known: aegis-1.0, "
    ):
        adapters.get("wildgaurd")
    with pytest.raises(KeyError, match=r"no transport named 'openai-chta' \(did you mean 'openai-chat'.*known: "):
        transports.get("openai-chta")


def test_a_second_class_under_a_taken_name_is_refused(monkeypatch):
    monkeypatch.setattr(adapters, "REGISTRY", dict(adapters.REGISTRY))
    monkeypatch.setattr(transports, "REGISTRY", dict(transports.REGISTRY))

    class Again(Adapter):
        name = "wildguard"

    class Twice(TransportBase):
        name = "openai-chat"

    with pytest.raises(ValueError, match="two adapters are named 'wildguard'"):
        adapters.register(Again)
    with pytest.raises(ValueError, match="two transports are named 'openai-chat'"):
        transports.register(Twice)
    same = adapters.REGISTRY["wildguard"]
    assert adapters.register(same) is same  # registering the same class again is harmless


def test_each_package_keeps_its_own_registry(monkeypatch):
    monkeypatch.setattr(adapters, "REGISTRY", dict(adapters.REGISTRY))

    class Lonely(Adapter):
        name = "only-an-adapter"

    adapters.register(Lonely)
    assert "only-an-adapter" in adapters.names()
    assert "only-an-adapter" not in transports.names()
