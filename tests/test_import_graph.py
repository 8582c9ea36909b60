"""The module graph of the product has no cycle, and workflows/ imports neither front end.

Built from the source with `ast`, so it sees what a reader sees: every import, including the
ones inside functions (a cycle hidden in a function is still a cycle, it only fails later and
in a different order). `from x import y` is an import of the submodule x.y when y is one.
Importing a.b.c also runs the packages a and a.b (their __init__), so those count too, except
the importer's own packages, which Python has always run before the importer. Imports under
`if TYPE_CHECKING:` never run and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("backoffice", "buyer_portal", "workflows")
FRONT_ENDS = ("backoffice", "buyer_portal")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules of ours that `module` imports, wherever in it the import statement is."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    skipped = {id(n) for n in ast.walk(tree) if isinstance(n, ast.If) and _is_type_checking(n)}
    stack = [tree]
    while stack:
        node = stack.pop()
        if id(node) in skipped:
            stack.extend(node.orelse)  # only the `if TYPE_CHECKING:` branch never runs
            continue
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names.add(source)
            names.update(
                f"{source}.{alias.name}"
                for alias in node.names
                if f"{source}.{alias.name}" in known
            )
    edges = set()
    own_packages = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    for name in names:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # a.b.c runs a, a.b and a.b.c
            target = ".".join(parts[:i])
            if target in known and target != module and target not in own_packages:
                edges.add(target)
    return edges


def module_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: _imported(
            ast.parse(path.read_text(), str(path)), name, path.name == "__init__.py", known
        )
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle as a path [a, b, …, a], or [] when there is none."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return []


def test_it_sees_an_import_inside_a_function_and_resolves_a_submodule():
    code = "def f():\n    from backoffice import compliance\n"
    edges = _imported(ast.parse(code), "backoffice.x", False, {"backoffice.compliance"})
    assert edges == {"backoffice.compliance"}
    # A cycle made only by an import inside a function is found.
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


def test_the_module_graph_has_no_cycle():
    cycle = find_cycle(module_graph())
    assert not cycle, "Import cycle: " + " -> ".join(cycle)


def test_workflows_imports_neither_front_end():
    wrong = sorted(
        f"{name} -> {target}"
        for name, targets in module_graph().items()
        if name.split(".")[0] == "workflows"
        for target in targets
        if target.split(".")[0] in FRONT_ENDS
    )
    assert not wrong, "\n".join(wrong)
