"""The emulators' ``python -m`` entry points: what a user can fix is one line and exit 2."""
from __future__ import annotations

import socket

import pytest

from emulator.identity.server import main as identity_main
from emulator.kinesis.server import main as kinesis_main


@pytest.fixture
def busy_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize("main, service", [(identity_main, "the identity stack"), (kinesis_main, "Kinesis")],
                         ids=["identity", "kinesis"])
def test_server_exits_2_with_one_line_when_port_is_in_use(main, service, busy_port, capsys) -> None:
    assert main(["--host", "127.0.0.1", "--port", str(busy_port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("python -m emulator.") and f"cannot serve {service} on 127.0.0.1:{busy_port}" in err
    assert len(err.splitlines()) == 1


def test_kinesis_exits_2_with_one_line_when_fault_plan_is_invalid(capsys) -> None:
    assert kinesis_main(["--port", "0", "--faults", '{"no_such_fault": 1}']) == 2
    err = capsys.readouterr().err.strip()
    assert "invalid setting" in err and "no_such_fault" in err and len(err.splitlines()) == 1
