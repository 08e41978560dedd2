"""The audit-and-judge step `streamload run` and `streamload audit --plan` share
(streamload.verdict): which thresholds are judged, what is listed as not judged, the exit code,
and the ledger table read only for the ledgers this machine lacks."""
from __future__ import annotations

from streamload import verdict
from streamload.audit import LedgerSet
from streamload.core.ledger import LedgerWriter

REPORT = {"produced": 10, "found": 9, "lost": 1, "duplicates": 0, "unexpected": 0}


def test_judge_thresholds_lists_latency_as_not_judged_when_only_audit_metrics_are_judged():
    report = dict(REPORT)
    verdict.judge_thresholds(report, ["lost == 0", "e2e_p99 < 5s", "duplicates == 0"],
                             judged_metrics=verdict.AUDIT_METRICS)
    assert [(t["threshold"], t["ok"]) for t in report["thresholds"]] == [("lost == 0", False), ("duplicates == 0", True)]
    assert report["thresholds_not_judged"] == ["e2e_p99 < 5s"]


def test_judge_thresholds_fails_latency_without_data_when_every_threshold_is_judged():
    report = dict(REPORT)
    verdict.judge_thresholds(report, ["lost <= 1", "e2e_p99 < 5s"])
    assert [(t["value"], t["ok"]) for t in report["thresholds"]] == [(1, True), (None, False)]
    assert "thresholds_not_judged" not in report


def test_exit_code_is_1_when_a_problem_a_failed_threshold_or_a_regression_is_reported():
    held = {"thresholds": [{"ok": True}]}
    assert verdict.exit_code_for(held) == 0
    assert verdict.exit_code_for({**held, "problems": ["no ledger from a planned producer: x"]}) == 1
    assert verdict.exit_code_for({"thresholds": [{"ok": False}]}) == 1
    assert verdict.exit_code_for({**held, "baseline": {"regressed": True}}) == 1
    report: dict = {}
    verdict.add_problems(report, [])
    assert "problems" not in report


class _CountingTable:
    def __init__(self) -> None:
        self.reads = 0

    def read(self, run_id: str) -> dict:
        self.reads += 1
        return {}


def test_ledger_table_is_read_only_when_a_planned_ledger_file_is_missing(tmp_path):
    here = tmp_path / "ledger-p0.json"
    with LedgerWriter(here, producer_id="p0", run_id="r1") as writer:
        writer.generated(3)
    table = _CountingTable()
    found: LedgerSet = verdict._planned_ledgers([here], table, "r1")
    assert (list(found.ledgers), table.reads) == (["p0"], 0)
    found = verdict._planned_ledgers([here, tmp_path / "ledger-p1.json"], table, "r1")
    assert (found.missing, table.reads) == ([str(tmp_path / "ledger-p1.json")], 1)
