"""The one exception root of the harness: every failure a user can act on is a
``StreamloadError`` whose message is one line and whose ``exit_code`` is what the command
returns for it (docs/conventions.md, "Exit codes"):

    0  all thresholds met / the command did what it was asked
    1  a threshold or check failed (or a statement the check needed failed)
    2  usage or config error: the message names the flag, field, file or command to fix it
    3  the target (stream, Data API, AWS) could not be reached

The tree (each class lives where it is raised; the ones below without a module here):

    StreamloadError                exit 1
    ├── ConfigError                exit 2  a config file, STREAMLOAD_* variable or flag is wrong
    │   ├── ThresholdError         exit 2  a [verdict] threshold does not parse (core.thresholds)
    │   └── AwsConfigError         exit 2  the [aws] section or an AWS profile is wrong (aws.errors)
    ├── UsageError                 exit 2  the command cannot run as asked
    │   ├── OutputDirBusy          exit 2  --out holds a run still going or unfinished (outdir)
    │   ├── SchemaError            exit 2  a producer schema or key field is unusable (producer)
    │   └── PrometheusUnavailable  exit 2  `demo --prometheus` without Prometheus (dashboards)
    ├── TargetUnreachable          exit 3  the stream or the Data API cannot be reached
    │   ├── TargetError            exit 3  the stream refuses records: unknown, region, access (producer)
    │   └── AwsUnreachable         exit 3  an AWS endpoint cannot be reached (aws.errors)
    ├── StatementError             exit 1  a SQL statement FAILED, ABORTED or timed out
    ├── AuditQueryFailed           exit 1  one of the audit's own queries failed
    ├── PipelineSetupFailed        exit 1  creating the external schema or the view failed
    └── AwsSetupError              exit 1  an AWS call was refused or a check failed (aws.errors)

Exceptions used only for control flow inside a module (a retry's "not yet", a dropped
open-model start, an RLS violation recorded in the report) are not part of this tree.
The CLIs (``streamload``, ``streamload aws``, ``python -m producer``) turn a
``StreamloadError`` into ``<prog>: error: <message>`` and its exit code in one place:
``report_error``, applied to a command by ``reports_errors``.
"""
from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TextIO, TypeVar

__all__ = [
    "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_UNREACHABLE",
    "StreamloadError", "ConfigError", "UsageError", "TargetUnreachable",
    "StatementError", "AuditQueryFailed", "PipelineSetupFailed", "report_error", "reports_errors",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


class StreamloadError(Exception):
    """A failure the user can act on; ``str(exc)`` is one line saying what and how."""

    exit_code = EXIT_FAILED


class ConfigError(StreamloadError):
    """A configuration problem; its message is one line naming the field or file."""

    exit_code = EXIT_USAGE


class UsageError(StreamloadError):
    """The command cannot run as asked (busy output folder, missing tool, bad input)."""

    exit_code = EXIT_USAGE


class TargetUnreachable(StreamloadError):
    """The stream or the Data API could not be reached."""

    exit_code = EXIT_UNREACHABLE


class StatementError(StreamloadError):
    """A statement ended FAILED or ABORTED, or did not finish in time."""


class AuditQueryFailed(StreamloadError):
    """One of the audit's own queries failed; the message starts "an audit query failed"."""


class PipelineSetupFailed(StreamloadError):
    """Creating the external schema or the materialized view failed."""


def report_error(exc: StreamloadError, prog: str, stream: TextIO | None = None) -> int:
    """Print ``<prog>: error: <message>`` (one line) and return the exception's exit code."""
    print(f"{prog}: error: {exc}", file=stream or sys.stderr)
    return exc.exit_code


_Command = TypeVar("_Command", bound=Callable[..., int])


def reports_errors(prog: str) -> Callable[[_Command], _Command]:
    """Decorate a command (returning an exit code) so a ``StreamloadError`` becomes one line
    on stderr and its exit code, never a traceback."""

    def decorate(command: _Command) -> _Command:
        @functools.wraps(command)
        def run(*args, **kwargs) -> int:
            try:
                return command(*args, **kwargs)
            except StreamloadError as exc:
                return report_error(exc, prog)

        return run  # type: ignore[return-value]

    return decorate
