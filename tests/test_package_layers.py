"""The library's packages stand in layers: a module imports only from its own
layer or the layers below it, the packages' import graph has no cycle, and no
module imports itself back at import time (the order is README's "Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

LIBRARY = REPO / "workflow" / "facebrain"

LAYERS = [
    {"errors", "io", "paths", "config", "seeding", "device", "provenance", "nifti", "plotting", "pipeline"},  # core: files, paths, provenance
    {"datasets"},
    {"models"},  # architectures, kinds, the registry, the batch samplers; the models stage's steps
    {"fmri"},
    {"encoding"},
    {"metrics", "probes"},
]
"""Lowest first. A unit is a package (``facebrain.models``) or a top-level module (``facebrain.io``)."""

MODELS_STAGE_STEPS = {"training", "ensemble", "latents", "traversals", "dimension_labels", "tables"}
"""The modules of ``facebrain.models`` that run the stage's steps; the others (architectures, kinds,
the registry, the batch samplers) are the building blocks those steps use and never import them."""

LAYER = {unit: level for level, units in enumerate(LAYERS) for unit in units}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(LIBRARY.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(LIBRARY.rglob("*.py"))}


def unit_of(module: str) -> str:
    return module.split(".")[1]


def imported_modules(module: str, tree: ast.AST) -> set[str]:
    """The facebrain modules ``tree`` imports (``from pkg import mod`` counts as ``pkg.mod`` when mod is a module)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module for alias in node.names}
    return {name for name in found if name.startswith("facebrain.")}


def import_time_statements(tree: ast.Module) -> ast.Module:
    """The statements that run when the module is imported: top level, outside functions and ``if TYPE_CHECKING:``."""
    body = [node for node in tree.body if not (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test))]
    keep = [node for node in body if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return ast.Module(body=keep, type_ignores=[])


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """A cycle of ``graph`` as a list of nodes (first repeated last), or [] when it has none."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_every_library_unit_has_a_layer():
    units = {unit_of(m) for m in MODULES if m != "facebrain"}
    assert units - set(LAYER) == set(), "place the new package or module in LAYERS (and README's Layout)"
    assert {"datasets", "models", "fmri", "encoding", "metrics"} <= units  # the walk found the library


def test_no_module_imports_a_layer_above_its_own():
    upward = []
    for module, path in MODULES.items():
        if module == "facebrain":
            continue
        for target in imported_modules(module, ast.parse(path.read_text())):
            if LAYER[unit_of(target)] > LAYER[unit_of(module)]:
                upward.append(f"{module} imports {target}")
    assert upward == []


def test_the_models_building_blocks_do_not_import_the_stage_steps():
    steps = {f"facebrain.models.{name}" for name in MODELS_STAGE_STEPS}
    assert steps <= set(MODULES)  # every step module exists where the layout says
    blocks = [m for m in MODULES if m.startswith("facebrain.models.") and m not in steps]
    assert "facebrain.models.registry" in blocks and "facebrain.models.pairs" in blocks
    upward = [f"{m} imports {t}" for m in blocks for t in imported_modules(m, ast.parse(MODULES[m].read_text())) if t in steps]
    assert upward == []


def test_the_packages_import_graph_has_no_cycle():
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        if module != "facebrain":
            graph.setdefault(unit_of(module), set()).update(unit_of(t) for t in imported_modules(module, ast.parse(path.read_text())) if unit_of(t) != unit_of(module))
    assert graph["metrics"] and graph["encoding"]  # the graph has edges to look at
    assert find_cycle(graph) == []


def test_no_module_imports_itself_back_at_import_time():
    graph = {module: imported_modules(module, import_time_statements(ast.parse(path.read_text()))) for module, path in MODULES.items()}
    assert find_cycle(graph) == []
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]  # the search finds a cycle where there is one
