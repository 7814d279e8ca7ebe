"""The package's import graph has no cycle (docs/architecture.md, "Layers").

Every ``import`` of a gigacov module counts, wherever it is written: at module level, inside a
function, or in a ``try`` block. Only imports under ``if TYPE_CHECKING:`` are left out: they are
never executed, so they cannot make an import fail or hide a dependency at run time. An import
deferred into a function to postpone a heavy third-party dependency is fine; a deferred import
of a gigacov module is an edge like any other.

``from package import name`` is an edge to ``package.name`` when that is a module, else to
``package`` (its ``__init__``). The implicit import of a module's parent packages is not an
edge, as in every import-graph tool: a package's ``__init__`` that imports its own modules is
not a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "coverage" / "gigacov"


def _modules(package: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name → (file, is a package ``__init__``)."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        out[".".join(parts)] = (path, is_package)
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of a module except those under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.orelse:
                    visit_node(stmt)
                continue
            visit_node(child)

    def visit_node(node: ast.AST) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        visit(node)

    visit(tree)
    return found


def import_graph(package: Path) -> dict[str, dict[str, int]]:
    """Module → {imported gigacov module: line of the first such import}."""
    modules = _modules(package)
    root = package.name
    graph: dict[str, dict[str, int]] = {}
    for name, (path, is_package) in modules.items():
        here = name if is_package else name.rpartition(".")[0]
        edges: dict[str, int] = {}
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                targets = [
                    f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module
                    for a in node.names
                ]
            for target in targets:
                if target.split(".")[0] != root:
                    continue
                while target not in modules and "." in target:  # import a.b.c of an attribute
                    target = target.rpartition(".")[0]
                if target != name and target in modules:
                    edges.setdefault(target, node.lineno)
        graph[name] = edges
    return graph


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def connect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return cycles


def _one_loop(graph: dict[str, dict[str, int]], component: list[str]) -> list[str]:
    """One closed path through a component, for the failure message (a → b → … → a)."""
    members = set(component)
    start = component[0]
    path, seen = [start], {start}
    while True:
        nxt = next(w for w in sorted(graph[path[-1]]) if w in members)
        if nxt in seen:
            return path[path.index(nxt) :] + [nxt]
        path.append(nxt)
        seen.add(nxt)


def describe(graph: dict[str, dict[str, int]], cycles: list[list[str]]) -> str:
    lines = []
    for component in cycles:
        loop = _one_loop(graph, component)
        steps = [f"{a} (line {graph[a][b]}) → {b}" for a, b in zip(loop, loop[1:], strict=False)]
        lines.append(f"cycle through {len(component)} modules: {', '.join(component)}")
        lines.append("  for example: " + "; ".join(steps))
    return "\n".join(lines)


def test_no_import_cycle_between_gigacov_modules():
    graph = import_graph(PACKAGE)
    assert len(graph) > 40, "the package was not found"
    cycles = find_cycles(graph)
    assert not cycles, "import cycle(s) among gigacov modules:\n" + describe(graph, cycles)


def test_run_directory_module_is_at_the_bottom():
    """Everything may use gigacov.rundir; it uses only the error types, the text helpers, safe
    file operations and the catalogue, which use nothing of gigacov."""
    graph = import_graph(PACKAGE)
    bottom = {"gigacov.errors", "gigacov.text", "gigacov.safefs", "gigacov.catalogue"}
    assert set(graph["gigacov.rundir"]) <= bottom
    for module in bottom:
        assert set(graph[module]) == set(), module


def _write_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    for rel, text in files.items():
        path = package / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # a function-level import closes the loop
        (
            {
                "__init__.py": "",
                "a.py": "from . import b\n",
                "b.py": "def f():\n    from .a import thing\n",
            },
            [["pkg.a", "pkg.b"]],
        ),
        # through a subpackage's __init__, with an absolute import inside a try block
        (
            {
                "__init__.py": "",
                "low.py": "try:\n    import pkg.sub\nexcept ImportError:\n    pass\n",
                "sub/__init__.py": "from .high import x\n",
                "sub/high.py": "from ..low import y\n",
            },
            [["pkg.low", "pkg.sub", "pkg.sub.high"]],
        ),
        # typing-only imports and a package __init__ importing its modules are no cycle
        (
            {
                "__init__.py": "from .a import A\n",
                "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n",
                "b.py": "from .a import A\nimport numpy\n",
            },
            [],
        ),
    ],
)
def test_cycle_finder_on_small_packages(tmp_path, files, expected):
    graph = import_graph(_write_package(tmp_path, files))
    cycles = find_cycles(graph)
    assert cycles == expected
    if cycles:
        message = describe(graph, cycles)
        for module in expected[0]:
            assert module in message
