"""A plain install (`pip install .`, what `./scripts/demo` does) brings every module the
shipped code imports: a package that only a test extra pulls in (boto3 through moto, once)
would pass every test and break the demo on a fresh machine."""
from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("streamload", "producer", "loadtest", "emulator", "dashboards")


def _runtime_closure(requirements: list[str]) -> set[str]:
    """Distributions a plain install of ``requirements`` brings in (no extras but those named)."""
    seen: set[str] = set()
    todo = [(Requirement(text), frozenset()) for text in requirements]
    while todo:
        req, wanted_extras = todo.pop()
        environment = default_environment()
        if req.marker is not None and not any(
                req.marker.evaluate({**environment, "extra": extra}) for extra in (wanted_extras or {""})):
            continue
        name = canonicalize_name(req.name)
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        try:
            children = requires(req.name) or []
        except PackageNotFoundError:
            continue  # e.g. an extra that names a package this platform does not install
        todo += [(Requirement(child), frozenset(req.extras)) for child in children]
    return {key.split("[", 1)[0] for key in seen}


# Tools behind an extra: they may import what only that extra installs, and nothing a plain
# install runs may import them.
EXTRA_TOOLS = {"dashboards/build.py": "dashboards", "dashboards/render.py": "dashboards",
               "dashboards/__main__.py": "dashboards"}


def _imports(path: Path, module_level_only: bool = False) -> set[str]:
    """What ``path`` imports; ``module_level_only``: not counting imports inside functions."""
    names: set[str] = set()
    todo: list[ast.AST] = [ast.parse(path.read_text(), str(path))]
    while todo:
        node = todo.pop()
        if module_level_only and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        todo.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _shipped_files(module_level_only: bool = False) -> dict[str, set[str]]:
    return {str(path.relative_to(ROOT)): _imports(path, module_level_only)
            for package in SHIPPED for path in (ROOT / package).rglob("*.py")}


def test_every_module_the_shipped_code_imports_comes_with_a_plain_install():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    plain = _runtime_closure(project["dependencies"])
    providers = packages_distributions()
    own = set(SHIPPED) | {module for module, dists in providers.items() if "streamload" in dists}
    missing = {}
    for where, modules in sorted(_shipped_files().items()):
        extra = EXTRA_TOOLS.get(where)
        installed = plain | _runtime_closure(project["optional-dependencies"][extra]) if extra else plain
        for module in sorted({m.split(".")[0] for m in modules}):
            if module in sys.stdlib_module_names or module in own:
                continue
            dists = {canonicalize_name(d) for d in providers.get(module, [])}
            if not dists & installed:
                missing.setdefault(module, (where, sorted(dists) or "not installed at all"))
    assert not missing, f"imported by shipped code but not brought by [project] dependencies: {missing}"


def test_nothing_a_plain_install_imports_needs_an_extra_at_import_time():
    needs_extra = {"dashboards.build"}  # grafanalib at module level
    offenders = {where: sorted(modules & needs_extra) for where, modules in _shipped_files(True).items()
                 if where not in EXTRA_TOOLS and modules & needs_extra}
    assert not offenders, f"these import grafanalib's dashboards.build when imported: {offenders}"
