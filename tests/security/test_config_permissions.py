"""A config file that holds secrets in [target] and that others can read gets a one-line
warning naming the file, the keys and the fix (as ssh does for private keys)."""
from __future__ import annotations

import logging
import os

import pytest

from streamload.core.config import load_config

SECRET_CONFIG = '[target]\naccess_key_id = "AKIDEXAMPLE"\nsecret_access_key = "wJalrXUtnFEMI-canary"\n'


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_warns_once_with_the_fix_when_secrets_file_is_readable_by_others(tmp_path, caplog, mode):
    os.chmod(tmp_path, 0o755)  # pytest makes it 0700, which would hide the file from everyone
    path = tmp_path / "streamload.toml"
    path.write_text(SECRET_CONFIG)
    os.chmod(path, mode)
    with caplog.at_level(logging.WARNING, logger="streamload.core.config"):
        cfg = load_config(path, environ={})
    warnings = [r.getMessage() for r in caplog.records if r.name == "streamload.core.config"]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert str(path) in warnings[0] and "secret_access_key" in warnings[0] and f"chmod 600 {path}" in warnings[0]
    assert "canary" not in warnings[0]
    assert cfg.target.secret_access_key.get_secret_value() == "wJalrXUtnFEMI-canary"  # still loaded


@pytest.mark.parametrize(("mode", "text"), [
    (0o600, SECRET_CONFIG),
    (0o400, SECRET_CONFIG),
    (0o644, '[target]\nregion = "eu-west-1"\n[producer]\nrate = 10\n'),  # nothing secret in it
])
def test_stays_quiet_when_file_is_private_or_holds_no_secret(tmp_path, caplog, mode, text):
    os.chmod(tmp_path, 0o755)
    path = tmp_path / "streamload.toml"
    path.write_text(text)
    os.chmod(path, mode)
    with caplog.at_level(logging.WARNING, logger="streamload.core.config"):
        load_config(path, environ={})
    assert [r for r in caplog.records if r.name == "streamload.core.config"] == []


def test_stays_quiet_when_file_sits_in_a_directory_others_cannot_enter(tmp_path, caplog):
    os.chmod(tmp_path, 0o755)
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    path = private / "streamload.toml"
    path.write_text(SECRET_CONFIG)
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger="streamload.core.config"):
        load_config(path, environ={})
    assert [r for r in caplog.records if r.name == "streamload.core.config"] == []
