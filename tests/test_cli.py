"""The command line: usage errors are one line and exit 2."""
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from streamload.cli import main
from streamload.cli_parser import build_parser


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["demo", "--rate", "fast"], "not a number"),
        (["demo", "--duration", "-1"], "must be > 0"),
        (["demo", "--bogus"], "unrecognized arguments"),
        ([], "required"),
    ],
)
def test_cli_exits_2_with_one_line_when_flags_invalid(argv, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err
    assert len(err.splitlines()) == 1


def test_cli_exits_2_naming_the_file_when_config_missing(tmp_path, capsys):
    code = main(["demo", "--config", str(tmp_path / "nope.toml")])
    assert code == 2
    assert "nope.toml" in capsys.readouterr().err


def test_console_script_entry_point_runs_when_installed():
    out = subprocess.run([sys.executable, "-m", "streamload.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "demo" in out.stdout and "stack" in out.stdout


def _write(path, text):
    path.write_text(text)
    return path


LOCAL_TARGET = '[target]\nkinesis_endpoint_url = "http://127.0.0.1:1"\nredshift_data_endpoint_url = "http://127.0.0.1:2"\n'


def test_run_prints_cost_estimate_before_an_aws_run(tmp_path, capsys):
    cfg = _write(tmp_path / "aws.toml", '[producer]\nrate = 500\nduration_s = 600\n[redshift]\nworkgroup_name = "wg"\n'
                                        '[aws]\nrecord_size_bytes = 1000\n')
    assert main(["run", "--config", str(cfg), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "target: AWS region us-east-1" in out
    assert "estimated cost of this run" in out and "300,000 records" in out
    assert out.index("estimated cost") < out.index("dry run: would produce 500 records/s")


def test_run_prints_no_cost_when_target_is_local_stack(tmp_path, capsys):
    cfg = _write(tmp_path / "local.toml", LOCAL_TARGET)
    assert main(["run", "--config", str(cfg), "--dry-run"]) == 0
    assert main(["run", "--config", str(_write(tmp_path / "aws.toml", "")), "--local", "--dry-run"]) == 0
    assert "estimated cost" not in capsys.readouterr().out


def test_series_commands_estimate_cost_of_every_run_they_may_make(tmp_path, capsys):
    cfg = _write(tmp_path / "aws.toml", '[redshift]\nworkgroup_name = "wg"\n')
    assert main(["capacity", "--config", str(cfg), "--start-rate", "100", "--max-rate", "400", "--step-duration", "10",
                 "--max-steps", "5", "--dry-run"]) == 0
    assert "from 20,000 records" in capsys.readouterr().out  # 5 steps x 10 s at the max rate, the worst case
    assert main(["baseline", "--config", str(cfg), "--rate", "50", "--duration", "20", "--repeat", "3", "--dry-run"]) == 0
    assert "from 3,000 records" in capsys.readouterr().out


def test_capacity_exits_2_when_plan_impossible(tmp_path, capsys):
    cfg = _write(tmp_path / "aws.toml", "")
    assert main(["capacity", "--config", str(cfg), "--start-rate", "100", "--max-rate", "50"]) == 2
    err = capsys.readouterr().err.strip()
    assert "invalid capacity plan" in err and len(err.splitlines()) == 1


def test_run_exits_2_before_running_when_baseline_missing(tmp_path, capsys):
    cfg = _write(tmp_path / "local.toml", LOCAL_TARGET)
    code = main(["run", "--config", str(cfg), "--baseline", str(tmp_path / "nope.json")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "nope.json" in err and len(err.splitlines()) == 1


def test_compare_exits_1_naming_regressed_metric_and_2_for_a_non_report(tmp_path, capsys):
    base = _write(tmp_path / "base.json", json.dumps({"e2e_p50_ms": 500, "e2e_p99_ms": 1000, "lost": 0, "duplicates": 0}))
    same = _write(tmp_path / "same.json", json.dumps({"e2e_p50_ms": 510, "e2e_p99_ms": 1020, "lost": 0, "duplicates": 0}))
    slow = _write(tmp_path / "slow.json", json.dumps({"e2e_p50_ms": 520, "e2e_p99_ms": 3000, "lost": 0, "duplicates": 0}))
    assert main(["compare", str(base), str(same)]) == 0
    assert "VERDICT no regression" in capsys.readouterr().out
    assert main(["compare", str(base), str(slow)]) == 1
    out = capsys.readouterr().out
    assert "regression rule:" in out and "VERDICT regressed: e2e_p99_ms" in out
    assert main(["compare", str(base), str(_write(tmp_path / "x.json", "[]"))]) == 2
    assert "report" in capsys.readouterr().err


@pytest.mark.parametrize("argv, needle", [(["baseline", "--repeat", "0"], "must be >= 1"),
                                          (["capacity", "--max-steps", "two"], "not a whole number")])
def test_series_commands_exit_2_when_counts_invalid(tmp_path, argv, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv + ["--config", str(_write(tmp_path / "c.toml", ""))])
    assert exc.value.code == 2
    assert needle in capsys.readouterr().err


def test_plan_writes_run_plan_naming_every_producer_ledger(tmp_path):
    from streamload.core.runplan import RunPlan

    cfg = _write(tmp_path / "c.toml", "[producer]\nrate = 300\n")
    out = tmp_path / "plan" / "run-plan.json"
    assert main(["plan", "--config", str(cfg), "--producers", "3", "--producer-id-prefix", "streamload-producer-",
                 "--ledger-dir", "/data", "--output", str(out)]) == 0
    plan = RunPlan.read(out)
    assert plan.ledger_paths == [f"/data/ledger-streamload-producer-{i}.json" for i in range(3)]
    assert plan.settings.producer.rate == 300


# --- scripts/k8s: the manifests run real commands with real flags ---------------------
K8S = Path(__file__).resolve().parent.parent / "scripts" / "k8s"


def _k8s_docs() -> dict[str, dict]:
    import yaml

    docs = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            docs[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return docs


def _container_argv(job: dict) -> list[str]:
    """The argv a container runs; for `sh -c '... exec CMD'` the CMD after exec."""
    import shlex

    container = job["spec"]["template"]["spec"]["containers"][0]
    argv = container["command"] + container.get("args", [])
    if argv[:2] == ["sh", "-c"]:
        script = argv[2]
        argv = shlex.split(script[script.index("exec ") + len("exec "):])
    return argv


def _locust_options(argv: list[str]) -> SimpleNamespace:
    """Locust's own parser, in a child process: importing locust here would monkey-patch
    this test process with gevent."""
    code = ("import json, sys; from locust.argument_parser import parse_options; "
            "print(json.dumps(vars(parse_options(sys.argv[1:])), default=str))")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"locust rejects {argv}: {out.stderr.strip()[-300:]}"
    return SimpleNamespace(**json.loads(out.stdout.strip().splitlines()[-1]))


def test_k8s_manifests_run_real_cli_flags_and_agree_with_run_config():
    from producer.cli import build_parser as producer_parser
    from streamload.core.config import load_config

    docs = _k8s_docs()
    cfg = load_config(K8S / "run.toml")
    producer, master, worker = (docs[f"Job/streamload-{n}"] for n in ("producer", "locust-master", "locust-worker"))

    argv = _container_argv(producer)
    assert argv[:3] == ["python", "-m", "producer"]
    p = producer_parser().parse_args(argv[3:])  # exits 2 on any flag the producer does not have
    assert p.rate * producer["spec"]["completions"] == cfg.producer.rate
    assert p.stream == cfg.stream.name and p.duration == cfg.producer.duration_s
    assert p.producer_id == "streamload-producer-$(JOB_COMPLETION_INDEX)"
    assert p.ledger.name == "ledger-streamload-producer-$(JOB_COMPLETION_INDEX).json"  # what `streamload plan` lists

    argv = _container_argv(master)
    assert argv[:3] == ["python", "-m", "locust"]
    m = _locust_options(argv[3:])
    assert m.master and m.headless and Path(m.locustfile) == Path("loadtest/locustfile.py")
    assert m.num_users == cfg.load.refresh_users + cfg.load.query_users + 1
    assert m.expect_workers == worker["spec"]["completions"] == worker["spec"]["parallelism"]
    assert m.run_time >= cfg.producer.duration_s + cfg.load.drain_timeout_s

    w = _locust_options(_container_argv(worker)[3:])
    assert w.worker and w.master_host == docs["Service/streamload-locust-master"]["metadata"]["name"]
    assert w.master_port == docs["Service/streamload-locust-master"]["spec"]["ports"][0]["port"]

    audit = docs["Job/streamload-audit"]
    argv = _container_argv(audit)
    assert argv[:3] == ["python", "-m", "streamload.cli"]
    a = build_parser().parse_args(argv[3:])  # exits 2 on any flag `streamload audit` does not have
    run_file = {e["name"]: e.get("value") for e in master["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert a.command == "audit" and str(a.plan) == run_file["STREAMLOAD_RUN_FILE"]  # the plan Locust reads
    assert a.output.parent == Path("/data")  # the plan's folder is a read-only ConfigMap

    for job in (producer, master, worker, audit):
        spec = job["spec"]["template"]["spec"]
        assert spec["restartPolicy"] == "Never"
        env = {e["name"] for e in spec["containers"][0].get("env", [])}
        assert not env & {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}  # credentials from the service account
        mounts = {v["name"]: v for v in spec["volumes"]}
        assert mounts["data"]["persistentVolumeClaim"]["claimName"] == docs["PersistentVolumeClaim/streamload-data"]["metadata"]["name"]


def test_k8s_readme_plan_command_matches_the_cli(tmp_path):
    import shlex

    text = (K8S / "README.md").read_text()
    line = text[text.index("streamload plan --config"):text.index("--output run-plan.json") + len("--output run-plan.json")]
    argv = shlex.split(line.replace("\\\n", " "))[1:]
    argv[argv.index("--ledger-dir") + 1] = str(tmp_path / "data")
    argv[argv.index("--output") + 1] = str(tmp_path / "run-plan.json")
    assert main(argv) == 0
    plan = json.loads((tmp_path / "run-plan.json").read_text())
    assert [Path(p).name for p in plan["ledger_paths"]] == [f"ledger-streamload-producer-{i}.json" for i in range(3)]
