"""The import graph of poi_service and the layering rules it must keep.

Run `python -m tests.layering` to print the package-level graph (which package imports which) and any
rule it breaks; tests/test_layering.py runs the same check in the suite.

Rules:
- the HTTP layer (`poi_service.api`) is imported only by the app's own modules, the CLI's `serve`
  and analysis's in-process service;
- no two top-level packages import each other, directly or through others (no package cycles).

Imports under `if TYPE_CHECKING:` count too: a type-level cycle is still a cycle for a reader.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Modules outside the HTTP layer that may import it, relative to the package: the CLI's `serve`
# and analysis's in-process service.
API_IMPORTERS = frozenset({"cli.data", "analysis.service"})


@dataclass(frozen=True)
class Edge:
    """One import: module `source` imports module `target` at `line`."""

    source: str
    target: str
    line: int


def module_name(path: Path, root: Path) -> str:
    """'poi_service/api/app.py' -> 'poi_service.api.app'; packages by their __init__."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        keep = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:keep] + ([node.module] if node.module else []))
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def edges(package_dir: Path) -> list[Edge]:
    """Every import between modules of the package below package_dir (its parent is the root)."""
    root = package_dir.parent
    top = package_dir.name
    files = sorted(f for f in package_dir.rglob("*.py") if f != package_dir / "__init__.py")
    known = {module_name(f, root) for f in files}
    found: list[Edge] = []
    for f in files:
        source = module_name(f, root)
        tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base, *named = _resolve(source, f.name == "__init__.py", node)
                # `from pkg import mod` is an edge to pkg.mod; `from pkg import name` one to pkg.
                targets = [t for t in named if t in known] or [base]
            else:
                continue
            for target in targets:
                # The package's own __init__ only re-exports the analyst API lazily: not a layer.
                if target in known and target not in (source, top):
                    found.append(Edge(source, target, node.lineno))
    return found


def package_of(module: str, top: str) -> str:
    """The top-level subpackage a module belongs to ('poi_service.api.app' -> 'api'); plain modules
    directly under the package count as their own node ('poi_service.models' -> 'models')."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else top


def package_graph(found: Iterable[Edge], top: str) -> dict[str, set[str]]:
    """Which top-level subpackage imports which (self-imports left out)."""
    graph: dict[str, set[str]] = {}
    for e in found:
        a, b = package_of(e.source, top), package_of(e.target, top)
        graph.setdefault(a, set())
        graph.setdefault(b, set())
        if a != b:
            graph[a].add(b)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
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
                result.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return result


def violations(package_dir: Path) -> list[str]:
    """Every broken rule, as readable lines; empty when the layering holds."""
    top = package_dir.name
    found = edges(package_dir)
    problems = []
    api = f"{top}.api"
    for e in found:
        into_api = e.target == api or e.target.startswith(api + ".")
        from_api = e.source == api or e.source.startswith(api + ".")
        if into_api and not from_api and e.source.removeprefix(top + ".") not in API_IMPORTERS:
            problems.append(f"{e.source}:{e.line} imports the HTTP layer ({e.target})")
    for component in cycles(package_graph(found, top)):
        problems.append("package cycle: " + " <-> ".join(component))
    return problems


def main() -> int:
    """Prints the package graph and the violations; exit status 1 when there are any."""
    package_dir = ROOT / "poi_service"
    graph = package_graph(edges(package_dir), package_dir.name)
    for name in sorted(graph):
        print(f"{name:12} -> {', '.join(sorted(graph[name])) or '-'}")
    problems = violations(package_dir)
    print("\n".join(problems) if problems else "layering holds: no upward imports, no package cycles")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
