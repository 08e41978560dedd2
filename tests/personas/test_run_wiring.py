"""How personas reach a run without a server: the config section, the set-up SQL, the
merged persona report and the verdict a run draws from it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from streamload.core.personas import DEFAULT_PERSONAS
from loadtest.persona_report import PersonaRecorder, apply_persona_results, persona_report_dir
from loadtest.personas import PersonaProcess, check_result
from streamload.sales_setup import COUNTRIES, SETUP_SQL, insert_sql, sales_rows, setup_sql_for, setup_statements
from streamload.core.config import ConfigError, load_config
from streamload.report import result_line
from streamload.run import _plan_config, judge
from streamload.core.runplan import RUN_FILE_ENV, RunPlan
from streamload.core.user_mix import planned_users

FRANK = DEFAULT_PERSONAS[1]
NAMES = [p.name for p in DEFAULT_PERSONAS]


def _write(out_dir: Path, recorder: PersonaRecorder, pid: int) -> None:
    recorder.write(persona_report_dir(out_dir) / f"personas-{pid}.json")


def _clean_recorder(latencies=(0.010, 0.020, 0.030), empty: tuple[str, ...] = ()) -> PersonaRecorder:
    """Every persona's queries saw only its own regions (no rows at all for ``empty``)."""
    recorder = PersonaRecorder()
    for persona in DEFAULT_PERSONAS:
        for seconds in latencies:
            rows = [] if persona.name in empty else [[r, "X"] for r in persona.allowed_regions]
            recorder.query(persona.name, check_result(persona, ["region", "country"], rows), "SELECT", seconds)
    return recorder


def test_personas_section_loads_from_env_when_file_is_silent():
    cfg = load_config(None, {}, environ={"STREAMLOAD_PERSONAS__ENABLED": "true",
                                         "STREAMLOAD_PERSONAS__USERS_PER_PERSONA": "3"})
    assert cfg.personas.enabled and cfg.personas.users_per_persona == 3
    assert [p.name for p in cfg.personas.personas] == NAMES


def test_flag_overrides_env_when_both_set_personas():
    cfg = load_config(None, {"personas": {"enabled": True}}, environ={"STREAMLOAD_PERSONAS__ENABLED": "false"})
    assert cfg.personas.enabled


def test_extra_persona_from_file_joins_user_count_when_enabled(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[personas]\nenabled = true\nusers_per_persona = 2\n'
                    '[[personas.personas]]\nname = "olga"\nemail = "olga@example.com"\n'
                    'groups = ["emea-sales"]\nallowed_regions = ["EMEA"]\n')
    cfg = load_config(path, {}, environ={})
    assert [p.name for p in cfg.personas.personas] == ["olga"]
    without = load_config(None, {}, environ={})
    assert planned_users(cfg).total == planned_users(without).total + 2
    assert planned_users(cfg).closed["persona-olga"] == 2


def test_config_error_names_the_file_when_setup_sql_is_missing(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(f'[personas]\nsetup_sql = "{tmp_path / "nope.sql"}"\n')
    with pytest.raises(ConfigError, match=r"personas\.setup_sql.*nope\.sql"):
        load_config(path, {}, environ={})


def test_setup_sql_names_the_configured_table_but_not_roles_or_policies():
    statements = setup_statements(setup_sql_for("team_sales"))
    text = "\n".join(statements)
    assert "CREATE TABLE IF NOT EXISTS team_sales" in text
    assert 'ATTACH RLS POLICY sales_amer ON team_sales TO ROLE "AWSIDC:amer-sales"' in text
    assert "ALTER TABLE team_sales ROW LEVEL SECURITY ON" in statements
    assert setup_sql_for("sales") == SETUP_SQL.read_text()
    with pytest.raises(ValueError):
        setup_sql_for("sales; DROP TABLE x")


def test_seed_rows_repeat_per_seed_and_keep_each_country_in_its_region():
    rows = list(sales_rows(60, seed=3))
    assert rows == list(sales_rows(60, seed=3)) and rows != list(sales_rows(60, seed=4))
    assert all(r["country"] in COUNTRIES[r["region"]] for r in rows)
    assert {r["region"] for r in rows} == {"AMER", "EMEA", "APAC"}


def test_insert_sql_doubles_quotes_when_a_value_holds_one():
    row = {**next(sales_rows(1)), "country": "Cote d'Ivoire"}
    assert "'Cote d''Ivoire'" in insert_sql([row])


def test_run_report_merges_workers_latency_when_two_processes_wrote(tmp_path):
    _write(tmp_path, _clean_recorder((0.010, 0.020)), 1)
    _write(tmp_path, _clean_recorder((0.030, 0.040)), 2)
    report: dict = {}
    assert apply_persona_results(report, NAMES, tmp_path) == []
    assert report["rls_violations"] == 0
    frank = report["personas"]["frank"]["query_latency_ms"]
    assert frank["count"] == 4 and frank["errors"] == 0
    assert 9.9 < frank["p50_ms"] < 20.1 and 39.9 < frank["p99_ms"] < 40.1
    assert set(report["latency_histograms"]) == {f"query:{n}" for n in NAMES}


def test_run_fails_with_rls_violations_when_a_persona_saw_foreign_rows(tmp_path):
    recorder = _clean_recorder()
    recorder.query("frank", check_result(FRANK, ["region"], [["AMER"], ["EMEA"], ["APAC"]]), "SELECT", 0.01)
    _write(tmp_path, recorder, 1)
    report = {"run_id": "r", "started_at": 0, "finished_at": 1, "lost": 0}
    apply_persona_results(report, NAMES, tmp_path)
    cfg = load_config(None, {"personas": {"enabled": True}}, environ={})
    assert judge(report, cfg, tmp_path) == 1
    assert report["rls_violations"] == 2
    assert {t["threshold"]: t["ok"] for t in report["thresholds"]}["rls_violations == 0"] is False
    assert "rls_violations=2" in result_line(report)
    assert report["personas"]["frank"]["foreign_regions"] == {"EMEA": 1, "APAC": 1}


def test_run_passes_rls_threshold_when_every_persona_saw_only_its_rows(tmp_path):
    _write(tmp_path, _clean_recorder(), 1)
    report = {"run_id": "r", "started_at": 0, "finished_at": 1, "lost": 0}
    apply_persona_results(report, NAMES, tmp_path)
    cfg = load_config(None, {"personas": {"enabled": True}}, environ={})
    assert judge(report, cfg, tmp_path) == 0
    assert [t["threshold"] for t in report["thresholds"]] == ["lost == 0", "rls_violations == 0"]


def test_problem_names_the_persona_when_it_never_got_a_checked_result(tmp_path):
    recorder = _clean_recorder()
    recorder.auth_error("zoe", "AssumeRoleWithWebIdentity: InvalidIdentityToken: bad signature")
    _write(tmp_path, recorder, 1)
    report: dict = {}
    problems = apply_persona_results(report, NAMES + ["zoe"], tmp_path)
    assert problems == ["persona zoe got no checked result "
                        "(AssumeRoleWithWebIdentity: InvalidIdentityToken: bad signature)"]


def test_nothing_checked_is_no_data_not_zero_when_no_persona_report_exists(tmp_path):
    report = {"run_id": "r", "started_at": 0, "finished_at": 1, "lost": 0}
    problems = apply_persona_results(report, NAMES, tmp_path)
    assert report["rls_violations"] is None and len(problems) == 4
    cfg = load_config(None, {"personas": {"enabled": True}}, environ={})
    assert judge(report, cfg, tmp_path) == 1
    assert "rls_violations=nan" in result_line(report)


def test_problem_says_no_rows_when_a_persona_only_got_empty_results(tmp_path):
    _write(tmp_path, _clean_recorder(empty=("ming",)), 1)
    problems = apply_persona_results({}, NAMES, tmp_path)
    assert len(problems) == 1 and problems[0].startswith("persona ming received no rows in 3 queries")


def test_persona_process_report_reaches_the_run_report_when_its_users_queried(tmp_path, monkeypatch):
    monkeypatch.delenv("STREAMLOAD_PERSONA_REPORT", raising=False)
    cfg = load_config(None, {"personas": {"enabled": True}, "redshift": {"db_user": "admin"}}, environ={})
    plan = RunPlan(run_id="r", started_at=0.0, config=_plan_config(cfg), probe_out=str(tmp_path / "probe.json"))
    shared = PersonaProcess(cfg.personas, cfg.target, fire=lambda **_: None)
    runners = [shared.runner(name, cfg.redshift, cfg.load, fire=lambda **_: None) for name in NAMES]
    assert all(r.recorder is shared.recorder and r.sessions is shared.sessions for r in runners)
    assert {r.redshift.db_user for r in runners} == {None}  # each persona is its own database user
    for persona in DEFAULT_PERSONAS:
        shared.recorder.query(persona.name, check_result(persona, ["region"], [[persona.allowed_regions[0]]]),
                              "SELECT", 0.01)
    shared.write_report(plan)
    report: dict = {}
    assert apply_persona_results(report, NAMES, tmp_path) == [] and report["rls_violations"] == 0


_LOCUSTFILE_PROBE = """
import loadtest.locustfile as lf
from locust import User
from prometheus_client import REGISTRY, generate_latest
users = sorted(n for n, v in vars(lf).items() if isinstance(v, type) and issubclass(v, User))
print(users, sum(getattr(lf, n).fixed_count for n in users if n.startswith("PersonaQueryUser_")))
print(generate_latest(REGISTRY).decode())
"""


@pytest.mark.parametrize("enabled", [True, False])
def test_locustfile_binds_persona_users_and_zero_rls_series_when_loaded(tmp_path, enabled):
    cfg = load_config(None, {"personas": {"enabled": enabled, "users_per_persona": 2},
                             "load": {"metrics_port": 0}}, environ={})
    RunPlan(run_id="r", started_at=0.0, config=_plan_config(cfg)).write(tmp_path / "plan.json")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", _LOCUSTFILE_PROBE], cwd=root, capture_output=True, text=True,
                          timeout=60, env={**os.environ, RUN_FILE_ENV: str(tmp_path / "plan.json")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    users_line, metrics_text = proc.stdout.split("\n", 1)
    persona_users = [f"PersonaQueryUser_{n}" for n in NAMES]
    assert all((u in users_line) == enabled for u in persona_users)
    assert users_line.endswith(" 8") if enabled else users_line.endswith(" 0")
    for name in NAMES:  # 0, not absent: dashboards and the RLS alert read "no violation"
        assert f'streamload_rls_violations_total{{persona="{name}"}} 0.0' in metrics_text


def test_sales_setup_runs_on_the_local_stack_only_unless_config_says_so():
    from emulator.stack import LocalStack
    from streamload.sales_setup import prepare_sales

    class Refusing:
        def execute(self, sql, name, fetch=True):
            raise AssertionError(f"nothing may run against a warehouse by default: {name}: {sql}")

    aws = load_config(None, {"personas": {"enabled": True}}, environ={})
    assert aws.personas.setup is None
    assert prepare_sales(Refusing(), aws.personas) == {}  # AWS: no roles or policies created
    local = load_config(None, {"personas": {"enabled": True}}, environ={})
    LocalStack().point_config_at_stack(local)
    assert local.personas.setup is True
    forced_off = load_config(None, {"personas": {"enabled": True, "setup": False}}, environ={})
    LocalStack().point_config_at_stack(forced_off)
    assert forced_off.personas.setup is False
