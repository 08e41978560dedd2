"""Crash matrix, the orchestrator: ``streamload run`` killed with SIGKILL leaves no process
behind (children and their children die with it), and the next run in the same output
directory refuses in one line (exit 2) unless told ``--overwrite``."""
from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
from crash_helpers import ROOT, still_running

from streamload.outdir import MARKER_NAME, OutputDirBusy, claim_output_dir

CHILDREN_PARENT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from streamload.processes import ChildGroup
    group = ChildGroup(Path(sys.argv[1]))
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    pids = [group.start(f"child-{n}", sleeper).proc.pid for n in range(3)]
    print(" ".join(map(str, pids)), flush=True)
    time.sleep(120)
""")
CLAIMER = textwrap.dedent("""
    import sys, time
    from streamload.outdir import claim_output_dir
    claim_output_dir(sys.argv[1])
    print("claimed", flush=True)
    time.sleep(120)
""")


def start_python(code: str, *args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()


def test_children_die_with_the_orchestrator_when_it_is_killed(tmp_path):
    parent, line = start_python(CHILDREN_PARENT, str(tmp_path / "logs"))
    try:
        children = {int(pid) for pid in line.split()}
        assert len(still_running(children, 0)) == 3, line
    finally:
        kill(parent)
    assert still_running(children, 15) == []


def test_next_run_refuses_the_directory_when_the_previous_run_was_killed(tmp_path):
    holder, line = start_python(CLAIMER, str(tmp_path))
    assert line == "claimed"
    kill(holder)
    with pytest.raises(OutputDirBusy, match=r"did not finish .*--overwrite") as refused:
        claim_output_dir(tmp_path)
    assert "\n" not in str(refused.value) and refused.value.exit_code == 2
    with claim_output_dir(tmp_path, overwrite=True):
        assert json.loads((tmp_path / MARKER_NAME).read_text())["pid"] == psutil.Process().pid
    claim_output_dir(tmp_path).release()  # a finished run leaves the directory free again


def test_overwrite_never_takes_the_directory_when_its_run_is_still_going(tmp_path):
    holder, line = start_python(CLAIMER, str(tmp_path))
    try:
        assert line == "claimed"
        with pytest.raises(OutputDirBusy, match=f"still going \\(pid {holder.pid}"):
            claim_output_dir(tmp_path, overwrite=True)
    finally:
        kill(holder)


def test_an_interrupted_run_keeps_its_marker_when_it_raised(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with claim_output_dir(tmp_path):
            raise KeyboardInterrupt
    assert (tmp_path / MARKER_NAME).exists()


def _descendants(pid: int) -> dict[int, str]:
    try:
        return {p.pid: " ".join(p.cmdline()) for p in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return {}


def _started_for(out_dir) -> set[int]:
    """Every process on the machine whose command line names the run's output directory."""
    found = set()
    for process in psutil.process_iter(["pid", "cmdline"]):
        if str(out_dir) in " ".join(process.info["cmdline"] or []):
            found.add(process.info["pid"])
    return found


@pytest.mark.slow
def test_killed_run_leaves_no_process_and_the_rerun_refuses_its_directory(tmp_path):
    config, out = tmp_path / "run.toml", tmp_path / "run"
    config.write_text("[producer]\nrate = 50\nduration_s = 20\nprocesses = 2\nmetrics_port = 0\n"
                      "[load]\nquery_users = 1\nworkers = 1\nmetrics_port = 0\ndrain_timeout_s = 10\n")
    argv = [sys.executable, "-m", "streamload.cli", "run", "--local", "--config", str(config), "--out", str(out)]
    run = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and run.poll() is None:  # until producers' children and a worker run
            seen.update(_descendants(run.pid))
            if any("--child" in c for c in seen.values()) and any("--worker" in c for c in seen.values()):
                break
            time.sleep(0.2)
        assert run.poll() is None and any("--worker" in c for c in seen.values()), seen
        time.sleep(random.uniform(0.0, 2.0))
        seen.update(_descendants(run.pid))
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        left = still_running(set(seen) | _started_for(out), 30)
        assert left == [], f"orphans after the orchestrator was killed: {left}"
    finally:
        for pid in seen:  # only what this test started
            try:
                psutil.Process(pid).kill()
            except psutil.Error:
                pass
    rerun = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 2, rerun.stdout[-1000:] + rerun.stderr[-1000:]
    message = rerun.stderr.strip().splitlines()
    assert len(message) == 1 and "did not finish" in message[0] and "--overwrite" in message[0], message
