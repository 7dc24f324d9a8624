"""Finding the source position of a value, only when something is wrong with it.

The fast parser gives no positions, so for a file with problems we compose the same text once with
PyYAML's node tree (C loader when available) and walk it along the problem's path.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Locator:
    """Positions of values in one YAML text, addressed by a path of keys and list indexes."""

    def __init__(self, text: str):
        self._index: dict[int, dict[str, tuple[yaml.Node, yaml.Node]]] = {}
        try:
            self.root = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError:
            self.root = None

    def find(self, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of the value at ``path``; with ``key`` of its key in the parent mapping.

        Where the path leaves the tree (a missing field), the deepest existing node's position is used.
        """
        node = self.root
        if node is None:
            return 1, 1
        best = (node.start_mark.line + 1, node.start_mark.column + 1)
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if isinstance(node, yaml.MappingNode):
                pair = self._pair(node, part)
                if pair is None:
                    return best
                k, node = pair
                if last and key:
                    return k.start_mark.line + 1, k.start_mark.column + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
            else:
                return best
            best = (node.start_mark.line + 1, node.start_mark.column + 1)
        return best

    def _pair(self, node: yaml.MappingNode, part: str | int | float) -> tuple[yaml.Node, yaml.Node] | None:
        """The first key and value of a mapping named ``part``; each mapping is indexed once, so locating many
        problems in one large mapping takes linear time."""
        if isinstance(part, float):
            return next(((k, v) for k, v in node.value if _special_number(k)), None)
        index = self._index.get(id(node))
        if index is None:
            index = self._index[id(node)] = {}
            for k, v in node.value:
                index.setdefault(str(k.value), (k, v))
        return index.get(str(part))

    def scalar(self, path: Sequence[str | int]) -> str | None:
        """The text of the plain scalar at ``path`` as written in the file, or None."""
        node = self.root
        for part in path:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == str(part)), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
            else:
                return None
        return node.value if isinstance(node, yaml.ScalarNode) and not node.style else None

    def key_of_parent(self, path: Sequence[str | int]) -> tuple[int, int]:
        """Position of the key that holds the mapping at ``path`` (for 'missing field' problems)."""
        if not path:
            return 1, 1
        return self.find(path, key=True) if isinstance(path[-1], str) else self.find(path)


def _special_number(node: yaml.Node) -> bool:
    """A plain scalar YAML reads as not-a-number or infinity (for locating such a key)."""
    return not getattr(node, "style", None) and str(node.value).lower().lstrip("+-") in (".nan", ".inf")


def find_duplicate_key(text: str) -> tuple[int, int, str] | None:
    """The position and name of the first repeated key in any mapping of ``text``."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None
    stack = [root]
    found: list[tuple[int, int, str]] = []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.value in seen:
                        found.append((k.start_mark.line + 1, k.start_mark.column + 1, k.value))
                    seen.add(k.value)
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return min(found) if found else None
