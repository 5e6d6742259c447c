"""No two modules of restorer/ import each other, directly or round a longer circle.

Every import counts: module level, under TYPE_CHECKING, and inside function bodies (a function-level
import only hides a cycle from the interpreter, not from the reader). import-linter checks the layers;
this checks the modules within them.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "restorer"

# Known cycles, each a strongly connected set of modules. None is left: the main window used to be a
# service locator (every controller took it), and since issue 14 each controller gets the document
# session, its task runner and the widgets it drives instead. A cycle that appears must be broken
# (move the shared types to a third module), not listed here.
KNOWN_CYCLES: set[frozenset[str]] = set()


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the restorer modules it names in any import statement anywhere in its source."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from . import x, from ..core import y
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                # `from pkg import mod` names the submodule; `from mod import func` names the module
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # `import restorer.x.y as z` and names inside modules
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected sets of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.add(frozenset(component))
    return found


def _describe(component: frozenset[str], graph: dict[str, set[str]]) -> str:
    return "; ".join(f"{m} -> {', '.join(sorted(graph[m] & component))}" for m in sorted(component))


def test_no_import_cycles_but_the_known_ones() -> None:
    graph = import_graph()
    found = cycles(graph)
    new = [c for c in found if c not in KNOWN_CYCLES]
    assert not new, "import cycles (move the shared types to a third module): " + " | ".join(
        _describe(c, graph) for c in new)
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in found]
    assert not gone, f"these known cycles changed or are gone: take them out of KNOWN_CYCLES: {gone}"


def test_the_scanner_sees_every_kind_of_import() -> None:
    # The checker itself: function-level, TYPE_CHECKING and `from package import module` imports all count.
    graph = import_graph()
    assert "restorer.inference.runner" in graph["restorer.inference.engine"]  # inside function bodies
    assert "restorer.ui.canvas" in graph["restorer.ui.navigator"]  # under TYPE_CHECKING
    assert "restorer.models.registry" in graph["restorer.ui.fill"]  # from restorer.models import registry
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == {frozenset("abc")}
    assert cycles({"a": {"b"}, "b": set()}) == set()


def test_types_modules_import_nothing_back() -> None:
    # The shared types sit below those that use them: the registry never imports its catalogue, the
    # runner never imports the engine, and the CLI's helpers import no command module.
    graph = import_graph()
    assert "restorer.models.catalog" not in graph["restorer.models.registry"]
    assert "restorer.models.registry" in graph["restorer.models.catalog"]
    assert "restorer.inference.engine" not in graph["restorer.inference.runner"] | graph["restorer.inference.job"]
    assert not {m for m in graph["restorer.models.spec"] | graph["restorer.inference.job"] if m.startswith("restorer.")} - {
        "restorer.core.box", "restorer.inference.regions"}
    assert not graph["restorer.cli_common"] & {"restorer.cli", "restorer.cli_batch", "restorer.cli_detect", "restorer.cli_fill"}
