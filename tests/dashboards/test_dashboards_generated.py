"""The committed Grafana JSON, rule files and provisioning are what the generator makes."""
from __future__ import annotations

import json

import yaml

from dashboards.build import generated_files
from dashboards.files import DASHBOARD_DIR, HERE
from dashboards.inventory import panel_expressions
from dashboards.panels import DASHBOARDS, MAIN_DASHBOARD_UID


def test_committed_files_match_generator_when_regenerated():
    stale = [str(path.relative_to(HERE)) for path, text in generated_files().items()
             if not path.exists() or path.read_text() != text]
    assert not stale, f"run `python -m dashboards` and commit: {stale}"


def test_no_dashboard_json_exists_without_a_spec_when_folder_is_listed():
    assert sorted(p.stem for p in DASHBOARD_DIR.glob("*.json")) == sorted(spec.uid for spec in DASHBOARDS)


def test_each_dashboard_has_datasource_and_run_selector_when_loaded():
    for path in DASHBOARD_DIR.glob("*.json"):
        board = json.loads(path.read_text())
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource", path.name
        assert variables["datasource"]["query"] == "prometheus", path.name
        assert variables["run_id"]["query"] == "label_values(streamload_run_info, run_id)", path.name
        for panel in board["panels"]:
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert panel["targets"], panel["title"]
        assert len({p["id"] for p in board["panels"]}) == len(board["panels"]), path.name


def test_every_panel_query_follows_the_run_selector_when_dashboards_are_read():
    unfiltered = [e.where for e in panel_expressions() if "$run_id" not in e.expr]
    assert not unfiltered, f"panels that ignore the run selector: {unfiltered}"


def test_main_dashboard_has_heatmap_percentiles_and_stages_when_loaded():
    board = json.loads((DASHBOARD_DIR / f"{MAIN_DASHBOARD_UID}.json").read_text())
    types = [p["type"] for p in board["panels"]]
    assert "heatmap" in types
    heatmap = next(p for p in board["panels"] if p["type"] == "heatmap")
    assert heatmap["targets"][0]["format"] == "heatmap"
    titles = " ".join(p["title"] for p in board["panels"])
    assert "percentiles" in titles and "Stage decomposition" in titles


def test_panels_do_not_overlap_when_laid_out():
    for path in DASHBOARD_DIR.glob("*.json"):
        cells = set()
        for panel in json.loads(path.read_text())["panels"]:
            g = panel["gridPos"]
            assert g["x"] + g["w"] <= 24, panel["title"]
            area = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
            assert not cells & area, f"{path.name}: {panel['title']} overlaps"
            cells |= area


def test_provisioning_points_at_the_dashboard_datasource_when_read():
    datasources = yaml.safe_load((HERE / "provisioning/datasources/streamload.yml").read_text())["datasources"]
    assert datasources[0]["type"] == "prometheus"
    assert datasources[0]["url"].startswith("http://127.0.0.1:")
    default = json.loads((DASHBOARD_DIR / f"{MAIN_DASHBOARD_UID}.json").read_text())["templating"]["list"][0]
    assert default["current"]["value"] == datasources[0]["uid"]
    providers = yaml.safe_load((HERE / "provisioning/dashboards/streamload.yml").read_text())["providers"]
    assert providers[0]["type"] == "file" and providers[0]["options"]["path"]
