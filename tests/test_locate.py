"""riskcards/locate.py directly: positions of values and keys in YAML text, addressed by a data path."""

from __future__ import annotations

from riskcards.locate import Locator, find_duplicate_key

TEXT = """\
id: my-card
title: "A title"
examples:
  - id: one
    prompt: hello
  - id: two
    turns:
      - {role: user, content: hi}
nested:
  deeper:
    value: 3
.nan: first special key
.inf: 2
"""


def test_values_and_keys_are_found_along_the_path():
    loc = Locator(TEXT)
    assert loc.find(("id",)) == (1, 5)
    assert loc.find(("id",), key=True) == (1, 1)
    assert loc.find(("examples", 1, "id")) == (6, 9)
    assert loc.find(("examples", 1, "turns", 0, "content")) == (8, 31)
    assert loc.find(("nested", "deeper", "value"), key=True) == (11, 5)


def test_a_path_that_leaves_the_tree_gives_the_deepest_existing_node():
    loc = Locator(TEXT)
    assert loc.find(("examples", 0, "output")) == (4, 5)  # the example's mapping
    assert loc.find(("examples", 9, "id")) == (4, 3)  # the list
    assert loc.find(("examples", "not-an-index")) == (4, 3)
    assert loc.find(("title", "x")) == (2, 8)  # a scalar has no children
    assert loc.find(("missing",)) == (1, 1)  # the document


def test_special_float_keys_are_located_by_a_float_path_part():
    loc = Locator(TEXT)
    assert loc.find((float("nan"),), key=True) == (12, 1)


def test_unparsable_or_empty_text_locates_at_the_start():
    assert Locator("a: [unclosed").find(("a",)) == (1, 1)
    assert Locator("").find(("a",)) == (1, 1)
    assert Locator("a: [unclosed").scalar(("a",)) is None


def test_scalar_gives_plain_scalars_as_written():
    loc = Locator("version: 1.10\nquoted: '1.10'\nlist: [a, b]\nlong: 0001\n")
    assert loc.scalar(("version",)) == "1.10"  # not the float 1.1
    assert loc.scalar(("long",)) == "0001"
    assert loc.scalar(("quoted",)) is None  # only plain scalars
    assert loc.scalar(("list",)) is None
    assert loc.scalar(("list", 1)) == "b"
    assert loc.scalar(("nope",)) is None


def test_key_of_parent_points_at_the_key_of_a_mapping_and_the_item_of_a_list():
    loc = Locator(TEXT)
    assert loc.key_of_parent(()) == (1, 1)
    assert loc.key_of_parent(("nested", "deeper")) == (10, 3)
    assert loc.key_of_parent(("examples", 1)) == (6, 5)


def test_many_lookups_in_one_large_mapping_use_one_index():
    text = "".join(f"k{i}: {i}\n" for i in range(5000))
    loc = Locator(text)
    assert loc.find(("k4999",), key=True) == (5000, 1)
    assert loc.find(("k0",)) == (1, 5)
    assert len(loc._index) == 1  # the root mapping, indexed once


def test_duplicate_keys_are_found_first_by_position():
    assert find_duplicate_key("a: 1\nb: 2\n") is None
    assert find_duplicate_key("a: 1\nb:\n  x: 1\n  x: 2\na: 3\n") == (4, 3, "x")
    assert find_duplicate_key("- {k: 1, k: 2}\n") == (1, 10, "k")
    assert find_duplicate_key("a: [unclosed") is None
