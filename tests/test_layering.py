"""The import graph keeps its layers: tests/layering.py states the rules and prints the graph."""

from __future__ import annotations

from pathlib import Path

from tests import layering


def test_the_package_keeps_its_layers() -> None:
    assert layering.violations(layering.ROOT / "poi_service") == []


def _package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for directory in {p.parent for p in package.rglob("*.py")} | {package}:
        (directory / "__init__.py").touch()
    return package


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "api/app.py": "from pkg.store import base\n",
            "store/base.py": "X = 1\n",
            "store/bad.py": "from pkg.api.app import base\n",
            "cli/data.py": "from pkg.api import app\n",  # the CLI's serve may
        },
    )
    assert layering.violations(package) == [
        "pkg.store.bad:1 imports the HTTP layer (pkg.api.app)",
        "package cycle: api <-> store",  # api imports store, so the bad import also closes a cycle
    ]


def test_a_package_cycle_is_caught_also_through_relative_and_type_only_imports(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "keys/check.py": "from ..store import base\n",
            "store/base.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.keys.check\n",
            "models.py": "X = 1\n",
        },
    )
    assert layering.violations(package) == ["package cycle: keys <-> store"]


def test_the_graph_names_each_package_once(tmp_path: Path) -> None:
    package = _package(tmp_path, {"a/x.py": "from pkg import models\n", "models.py": "X = 1\n"})
    graph = layering.package_graph(layering.edges(package), "pkg")
    assert graph == {"a": {"models"}, "models": set()}
