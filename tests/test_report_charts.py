"""The chart plumbing under the report pages: SVG output, ticks, and what is read out of report.json."""
import re

from report_fixtures import histogram, run_report, stage

from streamload.charts.render import chart, latency_axis, rate_axis, to_svg
from streamload.locust_history import read_locust_history
from streamload.report import RunReport
from streamload.report_data import curve_points, percentiles_of, population_rows, statement_latencies, time_bands


def _labels(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]+)</text>", svg)


def _draw(xs, ys, rate_log=None) -> str:
    with chart("rate", "latency") as (fig, ax):
        ax.plot(xs, ys)
        rate_axis(ax, "x", xs, log=rate_log)
        latency_axis(ax, "y", ys)
        return to_svg(fig, "t", "test chart")


def test_chart_svg_is_inline_and_identical_when_drawn_twice():
    first, second = _draw([1, 2, 3], [10, 20, 30]), _draw([1, 2, 3], [10, 20, 30])
    assert first == second
    assert first.startswith('<svg role="img" aria-label="test chart"') and "<?xml" not in first
    assert "<dc:date>" not in first and 'width="' not in first.split(">", 1)[0]  # scales with its card
    assert all(i.startswith("t-") for i in re.findall(r'\bid="([^"]+)"', first))


def test_latency_axis_goes_log_with_1_2_5_ticks_when_values_span_decades():
    svg = _draw([500, 1000, 2000, 4000, 8000], [1500, 2100, 3000, 6400, 79000], rate_log=True)
    labels = _labels(svg)
    assert {"1,000", "2,000", "5,000"} <= set(labels) and {"2 s", "5 s", "10 s", "20 s", "50 s"} <= set(labels)
    assert not {"2,100", "4,200", "6,300", "21,681"} & set(labels)


def test_latency_axis_stays_linear_with_round_ticks_when_values_are_close():
    labels = _labels(_draw([0, 10, 20], [300, 420, 510]))
    assert {"300 ms", "400 ms", "500 ms"} <= set(labels)


def test_time_bands_give_percentiles_per_window_when_samples_are_many():
    samples = [[i / 100, 100.0 + (i % 100)] for i in range(1000)]
    bands = time_bands(samples)
    assert len(bands) == 40 and sum(b.count for b in bands) == 1000
    assert all(b.p50 <= b.p90 <= b.p99 for b in bands)
    assert time_bands([]) == [] and len(time_bands([[0.0, 5.0]])) == 1


def test_percentiles_prefer_stored_fields_and_decode_histogram_for_the_rest():
    entry = {"p50_ms": 111.0, "histogram": histogram([float(v) for v in range(1, 1001)])}
    found = percentiles_of(entry, "x", (50.0, 99.0))
    assert found.get(50.0) == 111.0 and 985 <= found.get(99.0) <= 995 and found.count == 1000
    assert percentiles_of({"rule": "text only"}, "x") is None


def test_curve_stops_where_the_histogram_runs_out_of_records():
    points = curve_points(histogram([float(v) for v in range(1, 101)]))  # 100 records: up to p99
    assert points[0][0] == 0.0 and points[-1][0] == 2.0


def test_population_rows_read_the_stages_when_e2e_population_is_nested_or_flat():
    nested = RunReport(e2e_population={"stages": {"ingest": stage([10.0, 20.0])}, "rule": "every record"})
    flat = RunReport(e2e_population={"arrival": stage([1.0, 2.0]), "bucket_error_bound": 0.005})
    assert [r.label for r in population_rows(nested)] == ["ingest"]
    assert [r.label for r in population_rows(flat)] == ["arrival"]
    assert population_rows(RunReport(e2e_population={"error": "permission denied"})) == []


def test_statement_latencies_cover_kinds_and_personas_with_locust_table_as_last_resort():
    report = run_report()
    report["statements"]["statement refresh-history"] = {"requests": 11, "failures": 0, "p50_ms": 9.0, "p99_ms": 100.0}
    rows = {r.label: r for r in statement_latencies(RunReport.model_validate(report))}
    assert {"refresh", "query", "probe", "query · ethan", "query · frank", "refresh-history"} == set(rows)
    assert rows["refresh-history"].get(99.0) == 100.0 and rows["refresh-history"].count == 11


def test_locust_history_reads_aggregated_rows_when_csv_exists(tmp_path):
    (tmp_path / "locust_stats_history.csv").write_text(
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%\n"
        "1000,0,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\n"
        "1001,8,,Aggregated,40.5,0.5,29,75,90,120,200,310,870,870\n"
        "1001,8,DataAPI,statement query,20,0,30,75,90,120,200,300,800,800\n")
    rows = read_locust_history(tmp_path / "locust", started_at=999.5)
    assert rows == [{"t_s": 0.5, "users": 0, "requests_per_s": 0.0, "failures_per_s": 0.0, "p50_ms": None,
                     "p95_ms": None, "p99_ms": None},
                    {"t_s": 1.5, "users": 8, "requests_per_s": 40.5, "failures_per_s": 0.5, "p50_ms": 29.0,
                     "p95_ms": 310.0, "p99_ms": 870.0}]
    assert read_locust_history(tmp_path / "missing", 0.0) == []


def test_statement_history_keeps_each_kind_thinned_when_read_from_locust_full_history(tmp_path):
    from streamload.locust_history import read_statement_history

    header = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%\n"
    rows = [f"{1000 + t},3,DataAPI,statement {kind},2.0,0,{p},{p},{p},{p},{p},{p * 2},{p * 2},{p * 3}\n"
            for t in range(1000) for kind, p in (("refresh", 50), ("query", 20))]
    rows += [f"{1000 + t},3,DataAPI,submit query,2.0,0,1,1,1,1,1,1,1,1\n" for t in range(5)]
    rows += [f"{1000 + t},3,,Aggregated,4.0,0,30,30,30,30,30,60,60,90\n" for t in range(5)]
    (tmp_path / "locust_stats_history.csv").write_text(header + "".join(rows))

    history = read_statement_history(tmp_path / "locust", started_at=1000.0, max_points=100)

    assert sorted(history) == ["query", "refresh"]  # statements only, not phases or the aggregate
    assert all(len(series) <= 100 for series in history.values())
    assert history["refresh"][0] == {"t_s": 0.0, "p50_ms": 50.0, "p95_ms": 100.0, "p99_ms": 150.0,
                                     "requests_per_s": 2.0}
    assert history["refresh"][-1]["t_s"] >= 990
