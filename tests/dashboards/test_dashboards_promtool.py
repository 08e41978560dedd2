"""promtool accepts the committed scrape config and rules, and the config the runner writes."""
from __future__ import annotations

import pytest

from dashboards.files import PROMETHEUS_DIR, RULE_FILES
from dashboards.prometheus_runner import (
    PrometheusServer,
    PrometheusUnavailable,
    ScrapeTarget,
    find_binary,
    promtool,
    render_config,
)


@pytest.fixture(scope="module")
def promtool_binary(prometheus_binary):
    return find_binary("promtool")


def test_promtool_accepts_committed_config_when_checked(promtool_binary):
    proc = promtool("check", "config", str(PROMETHEUS_DIR / "prometheus.yml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 rule files found" in proc.stdout


def test_promtool_accepts_rules_when_checked(promtool_binary):
    proc = promtool("check", "rules", *map(str, RULE_FILES))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("SUCCESS") == len(RULE_FILES)


def test_promtool_accepts_runner_config_when_rendered_for_targets(promtool_binary, tmp_path):
    path = tmp_path / "prometheus.yml"
    path.write_text(render_config([ScrapeTarget("streamload-producer", "127.0.0.1:9100"),
                                   ScrapeTarget("streamload-loadtest", "127.0.0.1:9646")]))
    proc = promtool("check", "config", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_promtool_rejects_a_broken_rule_when_checked(promtool_binary, tmp_path):
    # The check above can fail: promtool really parses the PromQL.
    bad = tmp_path / "bad.yml"
    bad.write_text("groups:\n- name: g\n  rules:\n  - record: x:y\n    expr: sum(rate(foo[1m])\n")
    assert promtool("check", "rules", str(bad)).returncode != 0


def test_find_binary_names_the_install_script_and_installs_nothing_when_prometheus_missing(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PrometheusUnavailable) as info:
        find_binary("prometheus")
    message = str(info.value)
    assert "\n" not in message and "scripts/install-prometheus" in message


def test_server_reports_log_line_when_prometheus_cannot_start(prometheus_binary, tmp_path):
    server = PrometheusServer([ScrapeTarget("x", "127.0.0.1:1")], data_dir=tmp_path, binary=prometheus_binary)
    server.config_path.parent.mkdir(parents=True, exist_ok=True)
    # A rule file that does not parse makes Prometheus exit at start-up.
    bad = tmp_path / "bad-rules.yml"
    bad.write_text("groups: [{name: g, rules: [{record: 'x:y', expr: 'sum('}]}]\n")
    server.rule_files = (bad,)
    with pytest.raises(PrometheusUnavailable, match="did not become ready"):
        server.start(timeout_s=10)
    server.close()


def test_server_answers_queries_and_stops_when_used_as_context(prometheus_binary, tmp_path):
    with PrometheusServer([ScrapeTarget("x", "127.0.0.1:1")], data_dir=tmp_path, binary=prometheus_binary) as prom:
        assert prom.url.startswith("http://127.0.0.1:")
        assert float(prom.query("vector(42)")[0]["value"][1]) == 42
        with pytest.raises(RuntimeError, match="parse error"):
            prom.query("sum(")
        proc = prom._proc
    assert proc.poll() is not None  # stopped on exit


def test_demo_prometheus_exits_2_naming_the_install_script_when_prometheus_missing(monkeypatch, tmp_path, capsys):
    from streamload.cli import main

    monkeypatch.setenv("PATH", str(tmp_path))  # no prometheus; nothing may be installed either
    assert main(["demo", "--prometheus", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("streamload: error: `prometheus` is not on PATH; run `scripts/install-prometheus`")
