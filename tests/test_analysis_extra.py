"""The analysts' extra installs every command notebooks/README.md tells them to run (issue 14.2)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

# A command at the start of a code line or an inline code span: .venv/bin/<tool> [<subcommand>]
COMMAND = re.compile(r"(?:^|`)(?:\.venv/bin/)?(jupyter|pytest|pip)(?: ([a-z][a-z-]+))?", re.M)


def _closure(requirements: list[str], extra: str | None = None) -> set[str]:
    """Canonical names of the distributions these requirements install, transitively (installed metadata)."""
    seen: set[str] = set()
    todo = [(Requirement(r), extra) for r in requirements]
    while todo:
        req, from_extra = todo.pop()
        env = {"extra": from_extra or ""}
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        name = canonicalize_name(req.name)
        key = name + "".join(f"[{e}]" for e in sorted(req.extras))
        if key in seen:
            continue
        seen.add(key)
        seen.add(name)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise AssertionError(f"{req.name} is not installed: pip install -e '.[analysis]'") from None
        for sub in dist.requires or []:
            r = Requirement(sub)
            if (
                r.marker is None
                or r.marker.evaluate({"extra": ""})
                or any(r.marker.evaluate({"extra": e}) for e in req.extras)
            ):
                todo.append((r, None))
    return {k for k in seen if "[" not in k}


def _console_scripts() -> dict[str, str]:
    """Console script name -> canonical name of the distribution providing it."""
    out = {}
    for dist in metadata.distributions():
        for ep in dist.entry_points:
            if ep.group == "console_scripts":
                out[ep.name] = canonicalize_name(dist.metadata["Name"])
    return out


def test_the_analysis_extra_provides_every_command_of_the_notebooks_readme() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extra = pyproject["project"]["optional-dependencies"]["analysis"]
    base = pyproject["project"]["dependencies"]
    installed = _closure(extra) | _closure(base) | {"pip"}  # pip comes with every venv
    readme = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    commands = {(tool, sub if tool == "jupyter" else None) for tool, sub in COMMAND.findall(readme)}
    assert {("jupyter", "notebook"), ("jupyter", "nbconvert"), ("pytest", None)} <= commands, commands
    scripts = _console_scripts()
    for tool, sub in sorted(commands, key=str):
        script = f"{tool}-{sub}" if sub else tool
        assert script in scripts, f"no installed package provides `{script}`"
        assert scripts[script] in installed, (
            f"`{script}` comes from {scripts[script]}, not from the analysis extra"
        )
    # tests/test_notebooks.py needs these to execute the notebooks
    for module in ("nbclient", "nbformat", "pytest", "matplotlib", "ipykernel"):
        assert canonicalize_name(module) in installed, module
