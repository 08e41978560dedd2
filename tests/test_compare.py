"""compare: the regression rule, noise and loss."""
from streamload.compare import CompareRule, compare_reports, format_table


def _report(p50, p99, lost=0, noise=None):
    r = {"e2e_p50_ms": p50, "e2e_p99_ms": p99, "lost": lost, "duplicates": 0}
    if noise:
        r["noise"] = noise
    return r


def _by_metric(rows):
    return {r.metric: r for r in rows}


def test_compare_flags_p99_when_it_rises_beyond_rule_and_noise():
    rows = _by_metric(compare_reports(_report(1000, 2000), _report(1010, 2600)))
    assert rows["e2e_p99_ms"].regressed
    assert not rows["e2e_p50_ms"].regressed


def test_compare_tolerates_rise_when_within_measured_noise():
    baseline = _report(1000, 2000, noise={"e2e_p99_ms": 300})
    rows = _by_metric(compare_reports(baseline, _report(1000, 2600)))
    assert not rows["e2e_p99_ms"].regressed  # 600 ms < 3 x 300 ms spread
    rows = _by_metric(compare_reports(baseline, _report(1000, 3000)))
    assert rows["e2e_p99_ms"].regressed


def test_compare_flags_any_new_loss():
    rows = _by_metric(compare_reports(_report(1, 1), _report(1, 1, lost=1)))
    assert rows["lost"].regressed


def test_format_table_and_rule_name_every_metric():
    text = format_table(compare_reports(_report(1000, 2000), _report(1000, 2000)))
    assert "e2e_p99_ms" in text and "REGRESSED" not in text
    assert "current > baseline * 1.1" in CompareRule().describe()
