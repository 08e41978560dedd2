"""The layers in pyproject.toml ([tool.importlinter]) hold: no lower layer imports a higher
one, so a package cycle fails CI (docs/architecture.md draws them)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_layers_are_kept_when_linted_with_the_pyproject_contract():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 kept, 0 broken" in done.stdout


def test_modules_stay_small_when_counted_in_the_shipped_packages():
    too_long = [f"{path.relative_to(ROOT)}: {n} lines"
                for package in ("streamload", "producer", "loadtest", "emulator", "dashboards")
                for path in (ROOT / package).rglob("*.py")
                if (n := len(path.read_text().splitlines())) > 420]
    assert too_long == []
