"""The one exception root: every user-facing failure is a StreamloadError whose exit code is
what the command returns (0 ok, 1 check failed, 2 usage/config, 3 unreachable)."""
import pytest

from dashboards.prometheus_runner import PrometheusUnavailable
from producer.schemas.base import SchemaError
from producer.target import TargetError
from streamload.aws.errors import AwsConfigError, AwsSetupError, AwsUnreachable
from streamload.core.config import ConfigError
from streamload.core.errors import StatementError, StreamloadError, TargetUnreachable, reports_errors
from streamload.core.thresholds import ThresholdError, parse_threshold
from streamload.outdir import OutputDirBusy


@pytest.mark.parametrize("error, code", [
    (ConfigError, 2), (ThresholdError, 2), (AwsConfigError, 2), (OutputDirBusy, 2), (SchemaError, 2),
    (PrometheusUnavailable, 2), (TargetUnreachable, 3), (TargetError, 3), (AwsUnreachable, 3),
    (StatementError, 1), (AwsSetupError, 1),
])
def test_harness_error_is_a_streamload_error_with_its_documented_exit_code_when_raised(error, code):
    assert issubclass(error, StreamloadError) and error("x").exit_code == code


def test_threshold_error_stays_a_value_error_when_pydantic_validates_thresholds():
    with pytest.raises(ValueError):
        parse_threshold("lost = 0")


def test_command_prints_one_line_and_returns_the_exit_code_when_it_raises(capsys):
    @reports_errors("streamload")
    def command() -> int:
        raise TargetUnreachable("cannot reach http://127.0.0.1:9/")

    assert command() == 3
    assert capsys.readouterr().err == "streamload: error: cannot reach http://127.0.0.1:9/\n"
