"""The command line: usage errors are one line and exit 2."""
import subprocess
import sys

import pytest

from streamload.cli import main


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["demo", "--rate", "fast"], "not a number"),
        (["demo", "--duration", "-1"], "must be > 0"),
        (["demo", "--bogus"], "unrecognized arguments"),
        ([], "required"),
    ],
)
def test_cli_exits_2_with_one_line_when_flags_invalid(argv, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err
    assert len(err.splitlines()) == 1


def test_cli_exits_2_naming_the_file_when_config_missing(tmp_path, capsys):
    code = main(["demo", "--config", str(tmp_path / "nope.toml")])
    assert code == 2
    assert "nope.toml" in capsys.readouterr().err


def test_console_script_entry_point_runs_when_installed():
    out = subprocess.run([sys.executable, "-m", "streamload.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "demo" in out.stdout and "stack" in out.stdout
