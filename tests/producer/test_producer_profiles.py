"""Rate profiles: intended times are exact functions of the record index (no clock, no sleep)."""
from __future__ import annotations

import math

import pytest

from producer.cli import main
from producer.profiles import parse_duration, parse_profile


def test_constant_profile_times_are_exact_when_run_is_long():
    profile = parse_profile("constant:3")
    # 1/3 s is not representable; adding it up a billion times would drift by ~1e-7 s.
    assert profile.time_of(3_000_000_000) == 1e9
    assert [profile.time_of(i) for i in range(4)] == [0.0, 1 / 3, 2 / 3, 1.0]


def test_ramp_profile_reaches_the_integral_of_its_rate_when_ramp_ends():
    profile = parse_profile("ramp:100:2000:60s")
    # (100 + 2000) / 2 * 60 records during the ramp, then 2000 a second.
    assert profile.count_by(60) == pytest.approx(63_000)
    assert profile.time_of(63_000) == pytest.approx(60.0, abs=1e-9)
    assert profile.time_of(63_000 + 2000 * 5) == pytest.approx(65.0, abs=1e-9)
    assert profile.rate_at(30) == pytest.approx(1050)
    gaps = [profile.time_of(i + 1) - profile.time_of(i) for i in (10, 20_000, 60_000)]
    assert gaps[0] > gaps[1] > gaps[2]  # records come closer together as the rate rises


def test_ramp_down_to_zero_profile_ends_when_its_records_are_used_up():
    profile = parse_profile("ramp:100:0:10s")
    assert profile.count_by(10) == pytest.approx(500)
    assert profile.time_of(499) < 10 and math.isinf(profile.time_of(501))


def test_steps_profile_changes_rate_at_each_step_boundary():
    profile = parse_profile("steps:500,1000,2000@10s")
    assert profile.time_of(5_000) == pytest.approx(10.0)
    assert profile.time_of(15_000) == pytest.approx(20.0)
    assert profile.time_of(15_000 + 2000 * 30) == pytest.approx(50.0)  # the last step holds
    assert [profile.rate_at(t) for t in (0, 9.99, 10, 25, 1000)] == [500, 500, 1000, 2000, 2000]


def test_steps_profile_pauses_when_a_step_rate_is_zero():
    profile = parse_profile("steps:100,0,100@1s")
    assert profile.time_of(99) < 1.0
    assert profile.time_of(101) == pytest.approx(2.01)


def test_sine_profile_times_invert_its_cumulative_count_when_sampled_over_periods():
    profile = parse_profile("sine:1000:500:30s")
    assert profile.count_by(30) == pytest.approx(30_000)
    assert profile.time_of(30_000) == pytest.approx(30.0, abs=1e-6)
    # More records in the rising half than in the falling half of a period.
    assert profile.count_by(15) == pytest.approx(15_000 + 500 * 30 / math.pi)
    for i in (1, 7_777, 15_000, 29_999, 45_123, 300_001):
        assert profile.count_by(profile.time_of(i)) == pytest.approx(i, abs=1e-6)
    times = [profile.time_of(i) for i in range(0, 60_000, 50)]
    assert times == sorted(times)


def test_sine_profile_gives_same_times_when_asked_out_of_order():
    ordered = parse_profile("sine:200:200:4s")  # touches rate 0 once a period
    shuffled = parse_profile("sine:200:200:4s")
    indices = [5, 900, 3, 401, 800, 1, 799]
    assert [shuffled.time_of(i) for i in indices] == pytest.approx([ordered.time_of(i) for i in indices], abs=1e-9)


def test_burst_profile_repeats_base_then_peak_every_period():
    profile = parse_profile("burst:200:5000:5s/30s")
    assert profile.time_of(5_000) == pytest.approx(25.0)  # 25 s of base rate
    assert profile.time_of(30_000) == pytest.approx(30.0)  # then 5 s at 5000/s
    assert profile.time_of(35_000) == pytest.approx(55.0)  # the next period's base part
    assert [profile.rate_at(t) for t in (0, 24.9, 25, 29.9, 30, 56)] == [200, 200, 5000, 5000, 200, 5000]
    assert profile.mean_rate(60) == pytest.approx(1000)


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("1.5m", 90), ("2m30s", 150),
                                           ("500ms", 0.5), ("1h", 3600)])
def test_parse_duration_reads_units_when_given(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("spec, expected", [
    ("ramp:100", "ramp:FROM:TO:DURATION"),
    ("ramp:a:100:5s", "FROM must be a number"),
    ("steps:500,1000", "steps:R1,R2"),
    ("sine:100:200:5s", "AMPLITUDE (200) must be <= MEAN (100)"),
    ("burst:1:2:10s/5s", "LENGTH (10s) must not exceed EVERY (5s)"),
    ("burst:1:2:5s", "burst:BASE:PEAK:LENGTH/EVERY"),
    ("constant:0", "RATE must be > 0"),
    ("ramp:1:2:5parsecs", "bad duration '5parsecs'"),
    ("zigzag:5", "unknown kind 'zigzag'"),
])
def test_parse_profile_names_the_problem_when_spec_is_bad(spec, expected):
    with pytest.raises(ValueError, match="bad profile") as err:
        parse_profile(spec)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_cli_exits_2_with_one_line_when_profile_is_bad(capsys):
    assert main(["--stream", "s", "--rate-profile", "ramp:1:2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad profile 'ramp:1:2'" in err and "ramp:FROM:TO:DURATION" in err


def test_cli_exits_2_when_rate_and_profile_both_given(capsys):
    assert main(["--stream", "s", "--rate", "5", "--rate-profile", "constant:5"]) == 2
    assert "not both" in capsys.readouterr().err
