"""Benchmark: the randomuser generator against a naive loop that calls Faker per record.

Both build complete randomuser.me-shaped records (envelope included) serialised to JSON
bytes, on one core (one thread), side by side in one run: rounds alternate between the two
so machine noise hits both alike, and each side is scored by its best round. The naive
loop is what one writes first: ``Faker()`` calls for every field of every record (real
digests through hashlib, like the generator), then ``orjson.dumps``. Pool building, the
generator's one-off start-up cost, is timed separately and not in its rate.

Rates are records per second of this process's CPU time (``time.process_time``): "on one
core" means a core of its own, and on a shared machine wall-clock time also counts the
time other processes held the core. Wall-clock rates are printed alongside.

    .venv/bin/python -m bench.generator [--seconds 3] [--rounds 3]

Prints records/s for each side, the generator's records/s against the 100,000 goal, and
as its last line ``RATIO generator_vs_naive_faker <x>`` (goal >= 30).
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time

import orjson
from faker import Faker

from producer.schemas import RandomUserRecords

GOAL_RECORDS_PER_S = 100_000
GOAL_RATIO = 30.0


class NaiveFakerRecords:
    """One record = ~40 Faker calls; the baseline the issue measures against."""

    def __init__(self, producer_id: str, seed: int) -> None:
        self.fake = Faker()
        self.fake.seed_instance(seed)
        self.producer_id = producer_id

    def generate(self, seq: int, produced_at: float) -> bytes:
        fake = self.fake
        gender = fake.random_element(("male", "female"))
        first = fake.first_name_male() if gender == "male" else fake.first_name_female()
        last = fake.last_name()
        password, salt = fake.password(special_chars=False), fake.lexify("????????")
        salted = (password + salt).encode()
        dob, registered = fake.date_time_between("-80y", "-18y"), fake.date_time_between("-20y", "now")
        portrait = f"{'men' if gender == 'male' else 'women'}/{fake.random_int(0, 99)}.jpg"
        return orjson.dumps({
            "event_id": f"{self.producer_id}-naive-{seq}", "producer_id": self.producer_id,
            "seq": seq, "produced_at": produced_at, "gender": gender,
            "name": {"title": fake.prefix_male() if gender == "male" else fake.prefix_female(),
                     "first": first, "last": last},
            "location": {
                "street": {"number": fake.random_int(1, 9999), "name": fake.street_name()},
                "city": fake.city(), "state": fake.state(), "country": fake.current_country(),
                "postcode": fake.postcode(),
                "coordinates": {"latitude": str(fake.latitude()), "longitude": str(fake.longitude())},
                "timezone": {"offset": fake.pytimezone().tzname(None) or "0:00", "description": fake.timezone()},
            },
            "email": f"{first}.{last}@example.com".lower(),
            "login": {"uuid": fake.uuid4(), "username": fake.user_name(), "password": password,
                      "salt": salt, "md5": hashlib.md5(salted).hexdigest(),
                      "sha1": hashlib.sha1(salted).hexdigest(), "sha256": hashlib.sha256(salted).hexdigest()},
            "dob": {"date": dob.isoformat() + "Z", "age": 2024 - dob.year},
            "registered": {"date": registered.isoformat() + "Z", "age": 2024 - registered.year},
            "phone": fake.phone_number(), "cell": fake.phone_number(),
            "id": {"name": "SSN", "value": fake.ssn()},
            "picture": {"large": f"https://randomuser.me/api/portraits/{portrait}",
                        "medium": f"https://randomuser.me/api/portraits/med/{portrait}",
                        "thumbnail": f"https://randomuser.me/api/portraits/thumb/{portrait}"},
            "nat": "US",
        })


def _round(generate, seconds: float, start_seq: int) -> tuple[int, float, float, int]:
    """Records generated in about ``seconds`` of CPU time (checked every 1,000):
    (count, CPU seconds, wall seconds, bytes)."""
    count, size, seq = 0, 0, start_seq
    base = time.time()
    wall_started, cpu_started = time.perf_counter(), time.process_time()
    while True:
        for _ in range(1000):
            size += len(generate(seq, base + seq * 1e-5))
            seq += 1
        count += 1000
        cpu = time.process_time() - cpu_started
        if cpu >= seconds:
            return count, cpu, time.perf_counter() - wall_started, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each timed round (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per side, alternating (default 3)")
    args = parser.parse_args(argv)
    if not (args.seconds > 0 and args.rounds >= 1):
        parser.error("--seconds must be > 0 and --rounds >= 1")

    started = time.perf_counter()
    generator = RandomUserRecords("bench", seed=1, run_id="bench")
    generator.generate(0, time.time())  # the date pool is rendered on the first record
    print(f"generator start-up (Faker pools, once per process): {time.perf_counter() - started:.2f} s")
    naive = NaiveFakerRecords("bench", seed=1)

    def ours(seq, t):
        return generator.generate(seq, t).data

    best = {"generator": 0.0, "naive_faker": 0.0}
    sizes = {}
    seq = 1
    for i in range(args.rounds):
        for name, generate, seconds in (("generator", ours, args.seconds),
                                        ("naive_faker", naive.generate, args.seconds)):
            count, cpu, wall, size = _round(generate, seconds, seq)
            seq += count
            rate = count / cpu
            sizes[name] = size / count
            best[name] = max(best[name], rate)
            print(f"round {i + 1} {name:12s} {count:>9,d} records in {cpu:5.2f} s CPU = {rate:>10,.0f} records/s "
                  f"(wall {wall:5.2f} s = {count / wall:>9,.0f} records/s)")
    print(f"generator   best {best['generator']:>10,.0f} records/s (goal >= {GOAL_RECORDS_PER_S:,}: "
          f"{'met' if best['generator'] >= GOAL_RECORDS_PER_S else 'NOT met'}), "
          f"avg {sizes['generator']:.0f} B/record")
    print(f"naive_faker best {best['naive_faker']:>10,.0f} records/s, avg {sizes['naive_faker']:.0f} B/record")
    ratio = best["generator"] / best["naive_faker"]
    print(f"(goal ratio >= {GOAL_RATIO:g}: {'met' if ratio >= GOAL_RATIO else 'NOT met'})")
    print(f"RATIO generator_vs_naive_faker {ratio:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
