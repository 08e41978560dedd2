"""Grafana dashboards, Prometheus scrape config, recording and alert rules for streamload.

Layout:
    promql.py              every PromQL expression (run selector, recording and alert rules)
    panels.py              what each dashboard shows (titles, queries, units)
    build.py               specs -> Grafana JSON (grafanalib) and rule YAML; ``python -m dashboards``
    prometheus_runner.py   find/install, start, query and stop a loopback Prometheus
    metric_lint.py         the naming/cardinality policy of docs/conventions.md, as a check
    render.py              PNG of the end-to-end dashboard from a Prometheus's real data
    grafana/*.json, prometheus/*.yml, provisioning/   generated and static files to import
"""
