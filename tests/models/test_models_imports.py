"""No import circle in mitbadak/ (issue 11, acceptance 7), by the rules of
shared/design/ARCHITECTURE.md: "Imports go one way ... layers never import models, models never
import saving (a model's save reaches saving through one function looked up at call time), and
nothing imports keras_tuner, lab or the command line."

The source is parsed with `ast` (nothing is imported). An import counts as module-level when it
runs at import time (module body, class bodies, if/try blocks; not `if TYPE_CHECKING:`), and as
local inside a function. `importlib.import_module("mitbadak....")` with a constant string counts
as an import too. Units are the subpackages (mitbadak/layers/, ...) and top-level modules
(mitbadak/backend.py, ...); mitbadak/__init__.py and mitbadak/keras.py are the public namespace,
which imports everything by design, and are left out of the circle check.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NAMESPACES = {"__init__", "keras"}          # mitbadak/__init__.py, mitbadak/keras.py


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


class _Imports(ast.NodeVisitor):
    """The mitbadak imports of one module: (imported module, line, inside a function?)."""

    def __init__(self, name: str, is_package: bool, modules: set, package: str):
        self.name, self.is_package, self.modules, self.package = name, is_package, modules, \
            package
        self.depth = 0
        self.found: set = set()

    def _add(self, targets, node):
        for t in targets:
            if t == self.package or t.startswith(self.package + "."):
                self.found.add((t, node.lineno, self.depth > 0))

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_If(self, node):
        if "TYPE_CHECKING" not in ast.unparse(node.test):
            self.generic_visit(node)

    def visit_Import(self, node):
        self._add([a.name for a in node.names], node)

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.name if self.is_package else self.name.rsplit(".", 1)[0]
            for _ in range(node.level - 1):
                base = base.rsplit(".", 1)[0]
            module = base + ("." + node.module if node.module else "")
        else:
            module = node.module or ""
        self._add([f"{module}.{a.name}" if f"{module}.{a.name}" in self.modules else module
                   for a in node.names], node)

    def visit_Call(self, node):
        if ast.unparse(node.func).endswith("import_module") and node.args and \
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            self._add([node.args[0].value], node)
        self.generic_visit(node)


def collect(root: Path, package: str = "mitbadak") -> dict:
    """{module: [(imported module, line, local?)]} for every .py file of `package`."""
    modules = {module_name(root, p): p for p in (root / package).rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        visitor = _Imports(name, path.name == "__init__.py", set(modules), package)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        graph[name] = sorted(visitor.found)
    return graph


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def unit_graph(graph: dict, local: bool = False) -> dict:
    """{unit: {unit it imports: [where]}} between different units (module-level only unless
    local)."""
    edges: dict = {}
    for module, targets in graph.items():
        for target, line, is_local in targets:
            if (is_local and not local) or unit(module) == unit(target):
                continue
            edges.setdefault(unit(module), {}).setdefault(unit(target), []).append(
                f"{module}:{line} imports {target}")
    return edges


def find_cycle(edges: dict, skip: set) -> list | None:
    """One cycle of units (as a list, first unit repeated at the end), or None."""
    state: dict = {}
    stack: list = []

    def dfs(u):
        state[u] = 1
        stack.append(u)
        for v in edges.get(u, {}):
            if v in skip:
                continue
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if v not in state:
                found = dfs(v)
                if found:
                    return found
        stack.pop()
        state[u] = 2
        return None

    for u in list(edges):
        if u not in skip and u not in state:
            found = dfs(u)
            if found:
                return found
    return None


@pytest.fixture(scope="module")
def graph():
    return collect(REPO)


def _imports(graph, source_prefix, target_prefix, local=True):
    return [f"{m}:{line} imports {t}" for m, targets in graph.items()
            if m.startswith(source_prefix) for t, line, is_local in targets
            if t.startswith(target_prefix) and (local or not is_local)]


def test_the_walker_sees_the_imports_it_should(graph):
    """The parser finds known imports (so the rules below can fail)."""
    assert "mitbadak.models.trainer" in graph and "mitbadak.layers.layer" in graph
    assert any(t.startswith("mitbadak.callbacks") and not local
               for t, _, local in graph["mitbadak.models.trainer"])
    assert any(t.startswith("mitbadak.layers") for t, _, _ in graph["mitbadak.models.model"])
    edges = unit_graph(graph)
    assert "layers" in edges["models"] and "backend" in edges["layers"]


def test_layers_never_import_models(graph):
    bad = _imports(graph, "mitbadak.layers", "mitbadak.models")
    assert not bad, "layers must not import models (ARCHITECTURE.md):\n" + "\n".join(bad)


def test_models_never_import_saving_at_module_level(graph):
    bad = _imports(graph, "mitbadak.models", "mitbadak.saving", local=False)
    assert not bad, "models must not import saving at import time:\n" + "\n".join(bad)
    # at call time, only through the one function in models/model.py (saving_api)
    local = [m for m in _imports(graph, "mitbadak.models", "mitbadak.saving")
             if not m.startswith("mitbadak.models.model:")]
    assert not local, "models reach saving only through model.saving_api:\n" + "\n".join(local)


@pytest.mark.parametrize("target", ["mitbadak.lab", "mitbadak.keras_tuner",
                                    "mitbadak.__main__"])
def test_nothing_imports_lab_keras_tuner_or_the_command_line(graph, target):
    bad = [m for m in _imports(graph, "mitbadak", target)
           if not m.startswith(target + ".") and not m.startswith(target + ":")]
    assert not bad, f"nothing may import {target} (ARCHITECTURE.md):\n" + "\n".join(bad)


def test_no_import_circle_between_subpackages(graph):
    edges = unit_graph(graph)
    cycle = find_cycle(edges, skip=NAMESPACES)
    if cycle:
        where = [f"{a} -> {b}: {edges[a][b][0]}" for a, b in zip(cycle, cycle[1:])]
        pytest.fail("import circle between subpackages: " + " -> ".join(cycle) + "\n" +
                    "\n".join(where))


def test_the_circle_check_finds_a_circle(tmp_path):
    """A made-up package whose layers and models import each other is caught."""
    pkg = tmp_path / "mitbadak"
    for sub in ("layers", "models"):
        (pkg / sub).mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import layers, models\n")
    (pkg / "layers" / "__init__.py").write_text("")
    (pkg / "models" / "__init__.py").write_text("")
    (pkg / "layers" / "core.py").write_text("from ..models import model\n")
    (pkg / "models" / "model.py").write_text(
        "from mitbadak.layers import core\n"
        "def save():\n    import importlib\n    importlib.import_module('mitbadak.saving')\n")
    fake = collect(tmp_path)
    assert find_cycle(unit_graph(fake), skip=NAMESPACES) in (
        ["layers", "models", "layers"], ["models", "layers", "models"])
    assert _imports(fake, "mitbadak.layers", "mitbadak.models")
    assert ("mitbadak.saving", 4, True) in fake["mitbadak.models.model"]
