"""The shape of the package, read from its import statements (nothing is imported).

    python scripts/import_map.py            # the figures
    python scripts/import_map.py --check    # and exit 1 when a rule of the house is broken
    python scripts/import_map.py --edges    # every import edge, module by module

Figures: modules, lines of the largest one, imports inside functions, import levels (the
longest chain of imports from `buildgraph.__main__` down, counting both ends), import
cycles, and imports of another module's private names. Imports under `if TYPE_CHECKING:`
are for the type checker only and are left out; imports inside functions are counted like
any other, because they run too, only later.

The rules `--check` holds (docs/architecture.md says why): no cycle, no private name
imported from another module, at most MAX_LEVELS levels.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "buildgraph"
ROOT = Path(__file__).resolve().parent.parent
ENTRY = f"{PACKAGE}.__main__"
MAX_LEVELS = 10


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    is_package: bool
    imports: dict[str, int] = field(default_factory=dict)  # module -> first line
    private: list[str] = field(default_factory=list)  # "line: from X import _y"
    in_functions: int = 0


def module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def read_modules() -> dict[str, Module]:
    modules = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        name, is_package = module_name(path)
        text = path.read_text(encoding="utf-8")
        modules[name] = Module(name, path, text.count("\n"), is_package)
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.name.split(".")
    if not module.is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(1, len(parts))]


def read_imports(module: Module, modules: dict[str, Module]) -> None:
    tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))

    def add(target: str, line: int) -> None:
        for name in _with_parents(target) if target.startswith(PACKAGE + ".") else [target]:
            if name in modules and name != module.name:
                module.imports.setdefault(name, line)

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    visit(other, in_function)
                continue
            function = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == PACKAGE:
                        add(alias.name, child.lineno)
                        module.in_functions += function
            elif isinstance(child, ast.ImportFrom):
                source = _absolute(module, child)
                if source.split(".")[0] != PACKAGE:
                    continue
                module.in_functions += function
                add(source, child.lineno)
                for alias in child.names:
                    submodule = f"{source}.{alias.name}"
                    if submodule in modules:
                        add(submodule, child.lineno)
                    elif alias.name.startswith("_") and not alias.name.startswith("__"):
                        module.private.append(
                            f"{module.path.relative_to(ROOT)}:{child.lineno}: "
                            f"from {source} import {alias.name}"
                        )
            visit(child, function)

    visit(tree, False)


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in modules:
        if start in index:
            continue
        work = [(start, iter(modules[start].imports))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(modules[child].imports)))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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


def longest_chain(modules: dict[str, Module], start: str) -> list[str]:
    """The longest import chain from `start`; an import back to a module on the chain
    (a cycle, which --check reports) does not lengthen it."""
    best: dict[str, list[str]] = {}
    order: list[str] = []
    seen: set[str] = set()
    work = [(start, False)]
    while work:  # post-order, iteratively
        node, expanded = work.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        work.append((node, True))
        work.extend((child, False) for child in modules[node].imports if child not in seen)
    for node in order:
        tails = [best[c] for c in modules[node].imports if c in best]
        best[node] = [node, *max(tails, key=len, default=[])]
    return best.get(start, [start])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a rule is broken")
    parser.add_argument("--edges", action="store_true", help="print every import edge")
    args = parser.parse_args(argv)
    modules = read_modules()
    for module in modules.values():
        read_imports(module, modules)
    if args.edges:
        for module in modules.values():
            print(f"{module.name}: {', '.join(sorted(module.imports)) or '-'}")
    found_cycles = cycles(modules)
    chain = longest_chain(modules, ENTRY)
    private = [p for m in modules.values() for p in m.private]
    largest = max(modules.values(), key=lambda m: m.lines)
    print(f"modules: {len(modules)}")
    print(f"largest module: {largest.path.relative_to(ROOT)} ({largest.lines} lines)")
    print(f"imports inside functions: {sum(m.in_functions for m in modules.values())}")
    if chain:
        print(f"import levels from {ENTRY}: {len(chain)} ({' -> '.join(chain)})")
    print(f"import cycles: {len(found_cycles)}")
    for component in found_cycles:
        print("  " + " <-> ".join(component))
    print(f"private names imported from another module: {len(private)}")
    for line in private:
        print("  " + line)
    if not args.check:
        return 0
    broken = []
    if found_cycles:
        broken.append("an import cycle")
    if private:
        broken.append("a private name imported from another module")
    if len(chain) > MAX_LEVELS:
        broken.append(f"more than {MAX_LEVELS} import levels")
    for rule in broken:
        print(f"import_map: broken: {rule}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
