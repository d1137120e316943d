"""The package's import graph: no import circle, counting the imports inside functions and under
TYPE_CHECKING, which hide a circle from Python without removing it."""

from __future__ import annotations

import ast
from pathlib import Path

import ml

PACKAGE_ROOT = Path(ml.__file__).resolve().parent


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE_ROOT.rglob("*.py"):
        parts = ("ml", *path.relative_to(PACKAGE_ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def import_graph() -> dict[str, set[str]]:
    """Each module of ml and the modules of ml it imports anywhere in its body."""
    modules = module_names()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # ``from package import module`` depends on that module; ``from module import name``
                # on the module.
                targets = [
                    f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_circle_finder_finds_a_planted_circle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_ml_imports_itself_back_through_others_even_lazily():
    graph = import_graph()
    assert len(graph) > 100 and "ml.pipeline" in graph["ml.cli"]
    assert circles(graph) == []


# The floor: shared parts every model package builds on. The models: one package per analyser.
FLOOR = (
    "ml.errors",
    "ml.labels",
    "ml.analyser",
    "ml.prepared",
    "ml.images",
    "ml.cards",
    "ml.engine",
    "ml.weights",
    "ml.evaluation.metrics",
    "ml.evaluation.binary",
    "ml.evaluation.grouping",
    "ml.evaluation.plots",
)
MODELS = ("ml.classifier", "ml.segmentation", "ml.screener", "ml.ct")


def within(module: str, packages: tuple[str, ...]) -> str | None:
    return next(
        (package for package in packages if module == package or module.startswith(f"{package}.")), None
    )


def test_the_floor_imports_no_model_and_no_model_imports_another():
    graph = import_graph()
    upward = sorted(
        (module, target)
        for module, targets in graph.items()
        if within(module, FLOOR)
        for target in targets
        if not within(target, FLOOR)
    )
    assert upward == []
    across = sorted(
        (module, target)
        for module, targets in graph.items()
        for target in targets
        if within(module, MODELS) and within(target, MODELS) not in (None, within(module, MODELS))
    )
    assert across == []
