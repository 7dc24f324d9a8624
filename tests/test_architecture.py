"""The import graph of riskcards/ as the design says it is (DESIGN.md: data flows one way; a thin CLI over a
library; no network I/O in the library but the transports). Read statically from every module's source,
imports inside functions included (a lazy import is still a dependency); imports under ``if TYPE_CHECKING:``
are left out (they never run)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "riskcards"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()


def _runtime_nodes(tree: ast.AST):
    """Every node but those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _imports(name: str) -> set[str]:
    """What module ``name`` imports: riskcards modules by full name (a name imported from a package is the
    submodule when there is one), other packages by their top-level name."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name if a.name.startswith("riskcards") else a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if not base.startswith("riskcards"):
                found.add(base.split(".")[0])
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    found.discard(name)
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in graph:
                    continue
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def _riskcards_graph() -> dict[str, set[str]]:
    return {m: {t for t in ts if t in MODULES} for m, ts in GRAPH.items()}


def test_the_graph_is_read():
    assert len(MODULES) > 100
    assert "riskcards.query" in GRAPH["riskcards.cli.query"]
    assert "riskcards.index.contract" in GRAPH["riskcards.query"]  # a from-import of a submodule
    assert "riskcards.validate.assessment_records" in GRAPH["riskcards.validate.run"]  # inside a function
    assert "typer" in GRAPH["riskcards.cli.core"]


def test_no_import_cycles_but_a_registry_and_its_own_modules():
    """A registry package discovers its modules and they register with it (exporters, transports): a cycle
    inside one package, through its __init__. Any other cycle means two modules each need the other."""
    for cycle in _cycles(_riskcards_graph()):
        package = min(cycle, key=len)
        assert all(m == package or m.startswith(package + ".") for m in cycle), cycle
        assert MODULES[package].name == "__init__.py", cycle


def test_finds_a_cycle_when_there_is_one():
    graph = _riskcards_graph()
    graph["riskcards.ids"] = {*graph["riskcards.ids"], "riskcards.validate.run"}  # run -> ... -> ids
    assert any("riskcards.ids" in c and "riskcards.validate.run" in c for c in _cycles(graph))


def test_the_cli_and_the_site_sit_on_top():
    for name, targets in GRAPH.items():
        if not name.startswith("riskcards.cli") and name != "riskcards.__main__":
            assert not {t for t in targets if t.startswith("riskcards.cli")}, name
        if not name.startswith(("riskcards.cli", "riskcards.site")):
            assert not {t for t in targets if t.startswith("riskcards.site")}, name


def test_typer_and_rich_only_in_the_cli():
    for name, targets in GRAPH.items():
        if not name.startswith("riskcards.cli"):
            assert not targets & {"typer", "rich", "click"}, name


def test_network_io_only_in_the_transports():
    """DESIGN.md: library code does no network I/O except the guard transports (and the assessment target,
    which opens them), only when asked."""
    allowed = ("riskcards.guards.transports", "riskcards.guards.runner", "riskcards.assess.target")
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        uses = [
            lib for lib in ("http.client", "urllib.request", "socket", "requests", "httpx") if f"import {lib}" in text
        ]
        if uses:
            assert name.startswith(allowed), (name, uses)
