"""``SeqRanges``: a set of integers kept as sorted, disjoint, inclusive ranges.

A producer's sequence numbers (``seq``) are gap-free over what it generated, so what became
of them (acknowledged, expired, rejected) is a handful of ranges however many records there
were; the ledger and the audit keep them in this form so their size follows the ranges.
"""
from __future__ import annotations

from bisect import bisect_left
from typing import Iterable, Iterator

__all__ = ["SeqRanges"]


class SeqRanges:
    """Sorted disjoint inclusive ranges ``[(first, last), ...]``; adding merges neighbours."""

    __slots__ = ("_starts", "_ends")

    def __init__(self, ranges: Iterable[Iterable[int]] = ()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for first, last in ranges:
            self.add(int(first), int(last))

    def add(self, first: int, last: int | None = None) -> None:
        """Add ``first..last`` (inclusive; ``last`` defaults to ``first``)."""
        last = first if last is None else last
        if last < first:
            return
        starts, ends = self._starts, self._ends
        if starts and first > ends[-1] + 1:  # the common case: appending past the end
            starts.append(first)
            ends.append(last)
            return
        if starts and first >= starts[-1] and first <= ends[-1] + 1:
            ends[-1] = max(ends[-1], last)
            return
        i = bisect_left(ends, first - 1)  # first range that may touch or follow
        j = i
        while j < len(starts) and starts[j] <= last + 1:
            first, last = min(first, starts[j]), max(last, ends[j])
            j += 1
        starts[i:j] = [first]
        ends[i:j] = [last]

    def add_all(self, values: Iterable[int]) -> None:
        """Add single values; consecutive runs become one range each."""
        run_first = run_last = None
        for value in sorted(values):
            if run_last is not None and value <= run_last + 1:
                run_last = max(run_last, value)
                continue
            if run_first is not None:
                self.add(run_first, run_last)
            run_first = run_last = value
        if run_first is not None:
            self.add(run_first, run_last)

    def update(self, other: "SeqRanges") -> None:
        for first, last in other:
            self.add(first, last)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self._starts, self._ends)

    def __len__(self) -> int:
        """The number of ranges (``count`` is the number of values)."""
        return len(self._starts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SeqRanges) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"SeqRanges({self.to_json()})"

    @property
    def count(self) -> int:
        return sum(e - s + 1 for s, e in self)

    def __contains__(self, value: int) -> bool:
        i = bisect_left(self._ends, value)
        return i < len(self._starts) and self._starts[i] <= value

    def intersection(self, first: int, last: int) -> "SeqRanges":
        """The part of this set inside ``first..last``."""
        out = SeqRanges()
        i = bisect_left(self._ends, first)
        while i < len(self._starts) and self._starts[i] <= last:
            out.add(max(first, self._starts[i]), min(last, self._ends[i]))
            i += 1
        return out

    def to_json(self) -> list[list[int]]:
        return [[s, e] for s, e in self]

    @classmethod
    def from_json(cls, data: Iterable[Iterable[int]] | None) -> "SeqRanges":
        return cls(data or ())
