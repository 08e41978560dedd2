"""Rate profiles: how many records per second the producer aims at, moment by moment.

A profile is a rate ``r(t) >= 0`` (records/s, ``t`` seconds since the run started). Its
cumulative count ``N(t)`` is the integral of ``r``; record ``i`` is due at the earliest
``t`` with ``N(t) >= i``. Every intended time is computed from ``i`` directly (a closed
form, or for ``sine`` a root found to ~1e-9 s), never by adding intervals to the previous
one, so a long run does not drift.

Spec syntax (``--rate-profile``, config ``producer.profile``); durations as ``90``, ``90s``,
``1.5m``, ``2m30s``, ``500ms``, ``1h``:

=================================  ===========================================================
``constant:RATE``                  RATE records/s (``--rate RATE`` is the same)
``ramp:FROM:TO:DURATION``          linear from FROM to TO over DURATION, then TO
``steps:R1,R2,...@STEP``           R1 for STEP, then R2 for STEP, ...; the last rate holds
``sine:MEAN:AMPLITUDE:PERIOD``     MEAN + AMPLITUDE * sin(2 pi t / PERIOD); AMPLITUDE <= MEAN
``burst:BASE:PEAK:LENGTH/EVERY``   BASE, then PEAK for the last LENGTH of every EVERY
=================================  ===========================================================
"""
from __future__ import annotations

import math
import re
from bisect import bisect_left
from dataclasses import dataclass

__all__ = ["RateProfile", "PiecewiseProfile", "SineProfile", "parse_profile", "parse_duration", "constant"]

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_SYNTAX = {
    "constant": "constant:RATE",
    "ramp": "ramp:FROM:TO:DURATION, e.g. ramp:100:2000:60s",
    "steps": "steps:R1,R2,...@STEP, e.g. steps:500,1000,2000@10s",
    "sine": "sine:MEAN:AMPLITUDE:PERIOD, e.g. sine:1000:500:30s",
    "burst": "burst:BASE:PEAK:LENGTH/EVERY, e.g. burst:200:5000:5s/30s",
}


def parse_duration(text: str) -> float:
    """``"90"``, ``"90s"``, ``"1.5m"``, ``"2m30s"``, ``"500ms"``, ``"1h"`` -> seconds."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"bad duration {text!r} (use e.g. 30s, 1.5m, 2m30s, 500ms)")
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


class RateProfile:
    """The interface every profile offers (offsets are seconds from the run's start)."""

    spec: str

    def rate_at(self, t: float) -> float:
        raise NotImplementedError

    def count_by(self, t: float) -> float:
        """Records due in ``[0, t]``, as a real number (``N(t)``)."""
        raise NotImplementedError

    def time_of(self, index: int) -> float:
        """When record ``index`` (from 0) is due; ``math.inf`` if never."""
        raise NotImplementedError

    def mean_rate(self, duration_s: float) -> float:
        return self.count_by(duration_s) / duration_s if duration_s > 0 else self.rate_at(0.0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"


@dataclass(frozen=True)
class _Segment:
    """Rate moving linearly from ``r0`` to ``r1`` over ``length`` seconds."""

    start: float
    length: float
    r0: float
    r1: float
    count0: float  # N at the segment's start (within one period for periodic profiles)

    @property
    def slope(self) -> float:
        return (self.r1 - self.r0) / self.length if math.isfinite(self.length) and self.length > 0 else 0.0

    @property
    def count(self) -> float:
        if math.isfinite(self.length):
            return self.count_in(self.length)
        return math.inf if self.r0 > 0 else 0.0  # the last segment holds its rate forever

    def count_in(self, tau: float) -> float:
        return self.r0 * tau + self.slope * tau * tau / 2

    def time_for(self, n: float) -> float:
        """``tau`` with ``count_in(tau) == n``; the stable root of the quadratic."""
        if n <= 0:
            return 0.0
        slope = self.slope
        if slope == 0.0:
            return n / self.r0 if self.r0 > 0 else math.inf
        disc = self.r0 * self.r0 + 2 * slope * n
        if disc < 0:
            return math.inf
        denominator = self.r0 + math.sqrt(disc)
        return 2 * n / denominator if denominator > 0 else math.inf


class PiecewiseProfile(RateProfile):
    """Segments of constant or linearly changing rate. Periodic when ``period`` is given
    (the segments cover one period), else the last segment lasts forever."""

    def __init__(self, spec: str, pieces: list[tuple[float, float, float]], period: float | None = None) -> None:
        self.spec = spec
        self.period = period
        segments, start, count = [], 0.0, 0.0
        for length, r0, r1 in pieces:
            segment = _Segment(start, length, r0, r1, count)
            segments.append(segment)
            start += length
            count += segment.count
        self._segments = segments
        self._ends = [s.count0 + s.count for s in segments]
        self._period_count = count if period is not None else math.inf

    def _locate_t(self, t: float) -> tuple[float, float, _Segment]:
        """(whole periods' count, offset in the period, segment holding it)."""
        base = 0.0
        if self.period is not None:
            k = math.floor(t / self.period)
            base, t = k * self._period_count, t - k * self.period
        for segment in self._segments:
            if t < segment.start + segment.length:
                return base, t - segment.start, segment
        last = self._segments[-1]
        return base, last.length, last

    def rate_at(self, t: float) -> float:
        _, tau, segment = self._locate_t(max(0.0, t))
        return segment.r0 + segment.slope * tau

    def count_by(self, t: float) -> float:
        base, tau, segment = self._locate_t(max(0.0, t))
        return base + segment.count0 + segment.count_in(tau)

    def time_of(self, index: int) -> float:
        offset, n = 0.0, float(index)
        if self.period is not None:
            if self._period_count <= 0:
                return math.inf if index > 0 else 0.0
            k = math.floor(n / self._period_count)
            offset, n = k * self.period, n - k * self._period_count
        j = bisect_left(self._ends, n)  # first segment whose end reaches n: earliest time
        if j == len(self._segments):
            return math.inf
        segment = self._segments[j]
        return offset + segment.start + segment.time_for(n - segment.count0)


class SineProfile(RateProfile):
    """``mean + amplitude * sin(2 pi t / period)``. ``N(t)`` has no closed-form inverse, so
    each time is a safeguarded Newton root, warm-started from the previous record's."""

    def __init__(self, spec: str, mean: float, amplitude: float, period: float) -> None:
        self.spec = spec
        self.mean, self.amplitude, self.period = mean, amplitude, period
        self._omega = 2 * math.pi / period
        self._last = (0.0, 0.0)  # (n within a period, tau) of the last answer

    def rate_at(self, t: float) -> float:
        return self.mean + self.amplitude * math.sin(self._omega * t)

    def _count_in_period(self, tau: float) -> float:
        return self.mean * tau + self.amplitude / self._omega * (1 - math.cos(self._omega * tau))

    def count_by(self, t: float) -> float:
        k = math.floor(t / self.period)
        return k * self.mean * self.period + self._count_in_period(t - k * self.period)

    def time_of(self, index: int) -> float:
        per_period = self.mean * self.period
        k = math.floor(index / per_period)
        n = index - k * per_period
        last_n, last_tau = self._last
        guess = last_tau + (n - last_n) / max(self.rate_at(last_tau), self.mean * 1e-3) if last_n <= n else n / self.mean
        lo, hi = 0.0, self.period
        tau = min(max(guess, lo), hi)
        for _ in range(100):
            f = self._count_in_period(tau) - n
            if abs(f) < 1e-7:
                break
            if f > 0:
                hi = tau
            else:
                lo = tau
            if hi - lo < 1e-12 * self.period:
                break
            rate = self.rate_at(tau)
            step = tau - f / rate if rate > 0 else -1.0
            tau = step if lo < step < hi else (lo + hi) / 2
        self._last = (n, tau)
        return k * self.period + tau


def constant(rate: float) -> PiecewiseProfile:
    if not rate > 0:
        raise ValueError(f"rate must be > 0 records/s, got {rate!r}")
    return PiecewiseProfile(f"constant:{rate:g}", [(math.inf, float(rate), float(rate))])


def _rate(text: str, what: str, allow_zero: bool = True) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{what} must be {'>= 0' if allow_zero else '> 0'}, got {text!r}")
    return value


def _positive_duration(text: str, what: str) -> float:
    value = parse_duration(text)
    if not value > 0:
        raise ValueError(f"{what} must be > 0 s, got {text!r}")
    return value


def _build(kind: str, args: str, spec: str) -> RateProfile:
    if kind == "constant":
        return constant(_rate(args, "RATE", allow_zero=False))
    if kind == "ramp":
        start, end, length = args.split(":")
        r0, r1 = _rate(start, "FROM"), _rate(end, "TO")
        if r0 == r1 == 0:
            raise ValueError("FROM and TO cannot both be 0")
        return PiecewiseProfile(spec, [(_positive_duration(length, "DURATION"), r0, r1), (math.inf, r1, r1)])
    if kind == "steps":
        rates_text, length = args.split("@")
        rates = [_rate(r, "each step's rate") for r in rates_text.split(",")]
        if not any(rates):
            raise ValueError("at least one step must have a rate > 0")
        step = _positive_duration(length, "STEP")
        return PiecewiseProfile(spec, [(step, r, r) for r in rates[:-1]] + [(math.inf, rates[-1], rates[-1])])
    if kind == "sine":
        mean, amplitude, period = args.split(":")
        m, a = _rate(mean, "MEAN", allow_zero=False), _rate(amplitude, "AMPLITUDE")
        if a > m:
            raise ValueError(f"AMPLITUDE ({a:g}) must be <= MEAN ({m:g}): a rate cannot go below 0")
        return SineProfile(spec, m, a, _positive_duration(period, "PERIOD"))
    if kind == "burst":
        base, peak, timing = args.split(":")
        length_text, every_text = timing.split("/")
        b, p = _rate(base, "BASE"), _rate(peak, "PEAK", allow_zero=False)
        length, every = _positive_duration(length_text, "LENGTH"), _positive_duration(every_text, "EVERY")
        if length > every:
            raise ValueError(f"LENGTH ({length_text}) must not exceed EVERY ({every_text})")
        pieces = [(every - length, b, b), (length, p, p)] if length < every else [(every, p, p)]
        return PiecewiseProfile(spec, pieces, period=every)
    raise ValueError(f"unknown profile {kind!r}")


def parse_profile(spec: str) -> RateProfile:
    """A profile from its spec; ``ValueError`` with one line naming what is wrong."""
    kind, _, args = spec.strip().partition(":")
    if kind not in _SYNTAX:
        raise ValueError(f"bad profile {spec!r}: unknown kind {kind!r}; use one of {', '.join(_SYNTAX)}")
    try:
        return _build(kind, args, spec.strip())
    except ValueError as exc:  # a wrong number of ':'-parts surfaces as an unpacking ValueError
        detail = str(exc) if "unpack" not in str(exc) else "wrong number of parts"
        raise ValueError(f"bad profile {spec!r}: {detail}; expected {_SYNTAX[kind]}") from None
