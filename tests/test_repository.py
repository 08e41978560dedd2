"""The repository stands on its own: no shipped file or doc cites a design file that lives
outside it (facts the code relies on are in docs/)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = {".py", ".md", ".toml", ".yml", ".yaml", ".cfg", ".txt", ".sh", ".json", ".html", ".j2", ".ini"}
OUTSIDE_CITATION = re.compile(r"shared/|DESIGN\.md|DESIGN §|STYLE\.md")


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    return [ROOT / name for name in listed
            if Path(name).suffix in SUFFIXES or Path(name).parent.name == "scripts"]


def test_no_file_cites_a_design_file_outside_the_repository_when_every_tracked_file_is_read():
    this_file = Path(__file__).resolve()
    citing = [f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}"
              for path in _tracked_text_files() if path.resolve() != this_file and path.is_file()
              for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
              if OUTSIDE_CITATION.search(line)]
    assert citing == []


def test_docs_hold_the_conventions_the_code_cites_when_the_repository_is_read_alone():
    conventions = (ROOT / "docs" / "conventions.md").read_text()
    assert "### Exit codes" in conventions and "### Metric names" in conventions
    assert "### The cross-account set-up" in (ROOT / "docs" / "aws.md").read_text()
