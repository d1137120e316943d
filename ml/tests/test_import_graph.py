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


# The floor: shared parts every model package builds on (``ml.training`` is the loop, checkpoints,
# data and monitoring the four trainers share). The models: one package per analyser.
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
    "ml.evaluation.report",
    "ml.evaluation.acceptance",
    "ml.training",
)
MODELS = ("ml.classifier", "ml.segmentation", "ml.screener", "ml.ct")
# Above the models: the registry and pipeline that run every model, and the programs built on them.
TOP = ("ml.analysers", "ml.pipeline", "ml.cli", "ml.__main__", "ml.bench", "ml.bench_networks")


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


def test_the_floor_holds_the_shared_training_loop_and_the_classifier_its_own_trainer():
    graph = import_graph()
    assert within("ml.training.stages", FLOOR) and within("ml.training.runs", FLOOR)
    assert "ml.classifier.training.trainer" in graph and "ml.training.trainer" not in graph
    # Each trainer builds on the shared loop.
    trainers = (
        "ml.classifier.training.trainer",
        "ml.screener.training",
        "ml.segmentation.training",
        "ml.ct.training",
    )
    for trainer in trainers:
        assert graph[trainer] & {"ml.training.runs", "ml.training.stages"}, trainer


def is_command_line(module: str) -> bool:
    """A command's module (``cli``, ``*_cli``, ``cli_*``): the programs' layer, on top of everything."""
    last = module.rpartition(".")[2]
    return last == "cli" or last.endswith("_cli") or last.startswith("cli_")


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports of the floor's and the models' modules that reach the pipeline, its registry or a command.

    Only a command's module (``ml.segmentation.cli``, ``ml.classifier.quantize_cli``) may run a model
    through the pipeline; what a model is and does never depends on the pipeline that runs it.
    """
    return sorted(
        (module, target)
        for module, targets in graph.items()
        if within(module, FLOOR + MODELS) and not is_command_line(module)
        for target in targets
        if within(target, TOP) or is_command_line(target)
    )


def test_the_upward_rule_finds_a_model_importing_the_pipeline_but_lets_its_command_do_so():
    graph = {
        "ml.segmentation.network": {"ml.pipeline"},
        "ml.segmentation.cli": {"ml.pipeline", "ml.cli_options"},
        "ml.training.stages": {"ml.classifier.train_cli"},
        "ml.pipeline": {"ml.segmentation.network"},
    }
    assert upward_imports(graph) == [
        ("ml.segmentation.network", "ml.pipeline"),
        ("ml.training.stages", "ml.classifier.train_cli"),
    ]


def test_only_the_commands_of_models_import_the_pipeline_or_another_command():
    graph = import_graph()
    # The rule has something to allow: these commands run their model through the service's pipeline.
    for command in ("ml.classifier.quantize_cli", "ml.segmentation.cli"):
        assert "ml.pipeline" in graph[command], command
    assert upward_imports(graph) == []
