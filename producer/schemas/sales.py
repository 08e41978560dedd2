"""The ``sales`` schema: rows for the row-level-security scenario (docs/identity.md).

Each record is one sale: ``region`` (AMER, EMEA or APAC), a ``country`` inside that region,
``product``, ``category``, ``quantity``, ``unit_price``, ``amount`` (= quantity x unit
price, exactly, to the cent) and ``sold_at`` (ISO 8601 UTC, up to ``window_s`` before the
record's ``produced_at``). Money is computed in integer cents so ``amount`` never carries
float noise. ``sales_rows`` yields the same rows without the envelope, for seeding a table.
"""
from __future__ import annotations

import time
from collections.abc import Iterator

from producer.schemas.base import RecordGenerator, SchemaError, iso_utc

__all__ = ["REGIONS", "PRODUCTS", "FIELD_PATHS", "SalesRecords", "sales_rows"]

REGIONS: dict[str, tuple[str, ...]] = {
    "AMER": ("United States", "Canada", "Mexico", "Brazil", "Argentina", "Chile", "Colombia", "Peru"),
    "EMEA": ("United Kingdom", "Germany", "France", "Spain", "Italy", "Netherlands", "Sweden",
             "Poland", "Ireland", "South Africa", "United Arab Emirates", "Saudi Arabia", "Nigeria"),
    "APAC": ("Japan", "Australia", "India", "Singapore", "China", "South Korea", "New Zealand",
             "Indonesia", "Philippines", "Vietnam"),
}
# (product, category, list price in cents)
PRODUCTS: tuple[tuple[str, str, int], ...] = (
    ("Laptop Pro 14", "Computers", 189_900), ("Laptop Air 13", "Computers", 109_900),
    ("Desktop Tower", "Computers", 149_900), ("Monitor 27in 4K", "Displays", 44_900),
    ("Monitor 24in", "Displays", 17_900), ("Wireless Mouse", "Accessories", 2_999),
    ("Mechanical Keyboard", "Accessories", 12_900), ("USB-C Dock", "Accessories", 19_900),
    ("Noise-Cancelling Headphones", "Audio", 34_900), ("Bluetooth Speaker", "Audio", 8_999),
    ("Smartphone X", "Phones", 99_900), ("Smartphone Lite", "Phones", 42_900),
    ("Tablet 11in", "Tablets", 79_900), ("E-Reader", "Tablets", 13_999),
    ("Smartwatch", "Wearables", 39_900), ("Fitness Band", "Wearables", 4_999),
    ("External SSD 1TB", "Storage", 10_999), ("NAS 4-Bay", "Storage", 54_900),
    ("Office Suite Licence", "Software", 9_999), ("Cloud Backup 1y", "Software", 5_999),
)
FIELD_PATHS = frozenset(("event_id", "run_id", "producer_id", "seq", "produced_at", "region", "country", "product",
                         "category", "quantity", "unit_price", "amount", "sold_at"))
_REGION_NAMES = tuple(REGIONS)
_QUANTITIES = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8, 10, 12, 20)  # most orders are small


class SalesRecords(RecordGenerator):
    """Sales rows with the envelope; ``window_s``: how far before ``produced_at`` a sale
    may have happened (the default, one day, gives a dashboard a day of history)."""

    schema = "sales"

    def __init__(self, producer_id: str, seed: int | None = None, run_id: str | None = None, *,
                 key_field: str | None = None, window_s: float = 86400.0) -> None:
        super().__init__(producer_id, seed=seed, run_id=run_id, key_field=key_field)
        if not window_s >= 0:
            raise ValueError(f"window_s must be >= 0, got {window_s!r}")
        self.window_s = window_s
        self._produced_at = 0.0
        if self.key_field and self.key_field not in FIELD_PATHS:
            raise SchemaError(f"{self.key_field}: key field is not a field of sales records; "
                              f"one of {', '.join(sorted(FIELD_PATHS))}")

    def record(self, seq: int, produced_at: float) -> dict:
        self._produced_at = produced_at
        return super().record(seq, produced_at)

    def body(self) -> dict:
        random = self.rng.random
        region = _REGION_NAMES[int(random() * 3)]
        countries = REGIONS[region]
        product, category, list_cents = PRODUCTS[int(random() * len(PRODUCTS))]
        quantity = _QUANTITIES[int(random() * len(_QUANTITIES))]
        unit_cents = list_cents - int(random() * 16) * list_cents // 100  # 0-15 % discount
        return {
            "region": region,
            "country": countries[int(random() * len(countries))],
            "product": product,
            "category": category,
            "quantity": quantity,
            "unit_price": unit_cents / 100,
            "amount": quantity * unit_cents / 100,
            "sold_at": iso_utc(self._produced_at - random() * self.window_s),
        }


def sales_rows(count: int, *, seed: int = 0, end: float | None = None,
               window_s: float = 30 * 86400.0) -> Iterator[dict]:
    """``count`` sales (no envelope) spread over the ``window_s`` before ``end`` (default
    now): what a script seeding a ``sales`` table needs. Same seed and end, same rows."""
    generator = SalesRecords("seed", seed=seed, run_id="seed", window_s=window_s)
    end = time.time() if end is None else end
    for seq in range(count):
        generator._produced_at = end
        yield generator.body()
