"""The layers in pyproject.toml ([tool.importlinter]) hold: no lower layer imports a higher
one, and no two sibling modules or packages import each other (even inside a function), so a
cycle fails CI (docs/architecture.md draws the layers)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PACKAGES = ("streamload", "producer", "loadtest", "emulator", "dashboards")


def test_import_layers_hold_and_no_cycles_when_linted_with_the_pyproject_contracts():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout  # the layers, and no cycles between siblings


def _shipped_modules() -> list[Path]:
    return sorted(path for package in SHIPPED_PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_modules_stay_small_when_counted_in_the_shipped_packages():
    too_long = [f"{path.relative_to(ROOT)}: {n} lines"
                for path in _shipped_modules()
                if (n := len(path.read_text().splitlines())) > 400]
    assert too_long == []


def test_functions_stay_small_when_counted_in_the_shipped_packages():
    too_long = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines"
                for path in _shipped_modules()
                for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.end_lineno - node.lineno + 1 > 60]
    assert too_long == []


def test_every_streamload_module_has_a_layer_when_the_contract_is_read():
    """A module missing from the contract is checked by nothing: every ``streamload.*`` module
    (or package) must be named in one of the layers."""
    import tomllib

    layers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]["layers"]
    named = {name.strip() for layer in layers for name in layer.replace("|", ":").split(":")}
    package = ROOT / "streamload"
    modules = {f"streamload.{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"}
    modules |= {f"streamload.{p.name}" for p in package.iterdir() if (p / "__init__.py").exists()}
    assert sorted(modules - named) == []
