"""The packaging contract: one dependency list, one lock file, two commands, stripped notebooks.

* pyproject.toml is the single source of truth for dependencies; environment.yml installs the
  same set through ``-e .[dev]`` and constraints.txt pins one tested point inside the ranges.
* ``make demo`` and ``make test`` are the whole quick start; CI runs ``make test``.
* Notebooks are committed stripped, with the ``python3`` kernelspec papermill needs and one
  tagged ``parameters`` cell of literals (their papermill interface).
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import tokenize
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CONDA_ALLOWED = {"python", "pip"}
EDITABLE_DEV = re.compile(r"""^(-e|--editable)\s*=?\s*(["']?)\.\[dev\]\2$""")
CONSTRAINT_FILE = re.compile(r"""^(-c|--constraint)\s*=?\s*(["']?)constraints\.txt\2$""")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _declared() -> dict[str, Requirement]:
    """Runtime and optional (dev, ...) dependencies of pyproject, keyed by PEP 503 name."""
    project = _pyproject()["project"]
    lines = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        lines.extend(extra)
    declared: dict[str, Requirement] = {}
    for line in lines:
        req = Requirement(line)
        declared[canonicalize_name(req.name)] = req
    return declared


def _pins() -> dict[str, str]:
    """constraints.txt as {PEP 503 name: exact version}; malformed lines fail the test."""
    pins: dict[str, str] = {}
    problems: list[str] = []
    for n, raw in enumerate((ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            problems.append(f"line {n}: not a requirement: {raw!r}")
            continue
        specs = list(req.specifier)
        name = canonicalize_name(req.name)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            problems.append(f"line {n}: {raw!r} is not an exact '==' pin")
        elif name in pins:
            problems.append(f"line {n}: {req.name} is pinned twice")
        else:
            pins[name] = specs[0].version
    assert not problems, "constraints.txt:\n  " + "\n  ".join(problems)
    return pins


# --- (a) environment.yml installs exactly what pyproject declares ------------------------


def test_environment_yml_does_not_drift_from_pyproject() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env.get("name") == "journeylib"
    assert "conda-forge" in env.get("channels", [])
    declared = _declared()
    pins = _pins()
    requires_python = SpecifierSet(_pyproject()["project"]["requires-python"])

    drift: list[str] = []
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one `pip:` section"
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            continue
        name = re.match(r"[A-Za-z0-9_.\-]+", str(dep)).group(0).lower()
        spec = str(dep)[len(name) :].strip()
        if name not in CONDA_ALLOWED:
            drift.append(
                f"{name}: conda dependencies may only be python and pip; "
                f"add {name!r} to pyproject.toml instead"
            )
        elif name == "python" and spec:
            try:
                same = SpecifierSet(spec) == requires_python
            except InvalidSpecifier:
                same = False
            if not same:
                drift.append(f"python: environment.yml says {spec!r}, pyproject {requires_python}")

    lines = [str(x).strip() for x in pip_sections[0]]
    if not any(EDITABLE_DEV.match(x) for x in lines):
        drift.append("pip section lacks `-e .[dev]` (the project and its dependencies)")
    if not any(CONSTRAINT_FILE.match(x) for x in lines):
        drift.append("pip section lacks `-c constraints.txt` (the lock file)")
    for line in lines:
        if EDITABLE_DEV.match(line) or CONSTRAINT_FILE.match(line):
            continue
        if line.startswith("-"):
            drift.append(f"pip section: unexpected option line {line!r}")
            continue
        req = Requirement(line)
        name = canonicalize_name(req.name)
        if name not in declared:
            drift.append(f"{req.name}: listed in environment.yml but not in pyproject.toml")
            continue
        pin = pins.get(name)
        if pin is None or not req.specifier.contains(pin, prereleases=True):
            drift.append(
                f"{req.name}: environment.yml asks {req.specifier or 'any'}, but the lock pins "
                f"{pin} (pyproject: {declared[name].specifier})"
            )
    assert not drift, "environment.yml drifts from pyproject.toml:\n  " + "\n  ".join(drift)


# --- (b) the lock file pins every declared dependency inside its range ---------------------


def test_constraints_pin_every_declared_dependency() -> None:
    pins = _pins()
    problems = []
    for name, req in sorted(_declared().items()):
        if name not in pins:
            problems.append(
                f"{req.name}: declared in pyproject.toml but not pinned (run make lock)"
            )
        elif not req.specifier.contains(Version(pins[name]), prereleases=True):
            problems.append(f"{req.name}=={pins[name]} does not satisfy pyproject's {req}")
    assert not problems, "constraints.txt vs pyproject.toml:\n  " + "\n  ".join(problems)


def test_constraints_is_a_lock_not_the_project() -> None:
    text = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    assert "make lock" in text, "constraints.txt header must say how to regenerate it"
    assert canonicalize_name(_pyproject()["project"]["name"]) not in _pins()
    assert not re.search(r"^\s*-e\b", text, re.M), "constraints.txt must not hold -e lines"


# --- (c, d) the two commands, and CI runs the second --------------------------------------


def test_makefile_and_readme_offer_demo_and_test() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test", "lint", "format", "strip", "hooks", "lock", "clean"):
        assert re.search(rf"^{target}\s*:(?!=)", makefile, re.M), f"Makefile lacks `{target}:`"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("make demo", "make test"):
        assert command in readme, f"README.md does not mention `{command}`"


def test_ci_runs_make_test() -> None:
    script = ROOT / ".ci" / "run"
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash") or text.startswith("#!/bin/bash")
    code = [line.split("#", 1)[0] for line in text.splitlines()]
    assert any(re.match(r"^\s*set -euo pipefail\b", line) for line in code)
    assert any(re.search(r"(^|[\s;&|(])make test\b", line) for line in code), (
        ".ci/run must call `make test`"
    )
    if os.name == "posix":
        assert os.access(script, os.X_OK), ".ci/run must be executable (chmod +x)"


# --- (e) notebooks are committed stripped, with their papermill interface -----------------

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _parameter_problems(source: str) -> list[str]:
    """Why a `parameters` cell is not 'literals only, one per line, each with a # comment'."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"does not parse: {exc}"]
    comment_lines = {
        tok.start[0]
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    problems, seen = [], set()
    for stmt in tree.body:
        where = f"line {stmt.lineno}"
        if isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        else:
            problems.append(f"{where}: only `name: type = literal  # help` assignments allowed")
            continue
        if not isinstance(target, ast.Name):
            problems.append(f"{where}: assign to a plain name")
            continue
        try:
            ast.literal_eval(value)
        except ValueError:
            problems.append(f"{where}: {target.id} is not a literal (derive it in the next cell)")
        if target.id in seen:
            problems.append(f"{where}: {target.id} assigned twice")
        seen.add(target.id)
        if not comment_lines & set(range(stmt.lineno, stmt.end_lineno + 1)):
            problems.append(f"{where}: {target.id} needs a trailing `# help` comment")
    return problems


@pytest.mark.parametrize(
    "path",
    NOTEBOOKS or [pytest.param(None, marks=pytest.mark.skip(reason="no notebooks yet"))],
    ids=lambda p: p.name if p else "none",
)
def test_notebook_is_stripped_with_papermill_interface(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"kernelspec name is {kernel!r}, papermill and nbval need 'python3'")
    if "papermill" in nb.get("metadata", {}):
        problems.append("has papermill run metadata: commit the source, not an executed copy")
    tagged = []
    for i, cell in enumerate(nb.get("cells", [])):
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            problems.append(f"cell {i} is papermill's injected-parameters cell")
        if "parameters" in tags:
            tagged.append((i, cell))
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"cell {i} has outputs or an execution_count (run `make strip`)")
    if len(tagged) != 1:
        problems.append(f"{len(tagged)} cells are tagged `parameters`; exactly one is required")
    for i, cell in tagged:
        if cell.get("cell_type") != "code":
            problems.append(f"cell {i}: the `parameters` cell must be a code cell")
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        problems += [f"parameters cell {i}: {p}" for p in _parameter_problems(source)]
    assert not problems, f"{path.relative_to(ROOT)}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize(
    ("source", "ok"),
    [
        (
            'as_of: str = "2025-06-30"  # observation cut-off (ISO date)\nseed = 7  # RNG seed\n',
            True,
        ),
        ("# comments and blank lines are fine\n\nstages: list[str] = ['a', 'b']  # order\n", True),
        ("n: int = -3  # negative literal\n", True),
        ("seed = 7\n", False),  # no help comment
        ("as_of = today()  # derived\n", False),  # not a literal
        ("x: int  # no value\n", False),  # annotation only
        ("import os  # no\n", False),  # not an assignment
        ("a = b = 1  # chained\n", False),  # two targets
    ],
)
def test_parameter_cell_rules(source: str, ok: bool) -> None:
    # The checker itself, on hand-written cells: literals only, one per line, each commented.
    assert (not _parameter_problems(source)) is ok
