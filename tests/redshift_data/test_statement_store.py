"""StatementStore bounds: a long run keeps memory flat by forgetting the oldest finished
statements beyond a count or result-byte budget (AWS keeps them 24 h; the local stack cannot)."""
from __future__ import annotations

from emulator.redshift_data.results import ResultSet
from emulator.redshift_data.statements import Statement, StatementStore


def _finished(store: StatementStore, statement_id: str, result_bytes: int = 0, read: bool = True) -> Statement:
    statement = Statement(statement_id, "select 1", "dev", clock=store.clock)
    store.add(statement)
    if result_bytes:
        statement.result = ResultSet([], [b"x" * (result_bytes - 1)])  # + its comma
        statement.result_read = read
    statement.set_status("FINISHED")
    store.settle(statement)
    return statement


def test_store_forgets_oldest_finished_statements_when_over_count():
    store = StatementStore(lambda: 100.0, 3600, max_kept=3)
    for i in range(5):
        _finished(store, f"s{i}")
    assert [store.get(f"s{i}") is not None for i in range(5)] == [False, False, True, True, True]
    assert len(store) == 3


def test_store_forgets_oldest_results_when_over_byte_budget_but_keeps_active_ones():
    store = StatementStore(lambda: 100.0, 3600, max_kept=100, max_result_bytes=250)
    running = Statement("running", "select pg_sleep(1)", "dev", clock=lambda: 100.0)
    store.add(running)
    for i in range(4):
        _finished(store, f"s{i}", result_bytes=100)
    assert store.result_bytes == 200
    assert [store.get(f"s{i}") is not None for i in range(4)] == [False, False, True, True]
    assert store.get("running") is running and store.active_count == 1


def test_store_keeps_the_latest_result_even_when_it_alone_exceeds_the_budget():
    store = StatementStore(lambda: 100.0, 3600, max_result_bytes=10)
    _finished(store, "big", result_bytes=1000)
    assert store.get("big") is not None


def test_store_accounts_bytes_when_statements_expire_by_retention():
    now = [100.0]
    store = StatementStore(lambda: now[0], 60, max_result_bytes=10_000)
    statement = Statement("old", "select 1", "dev", clock=lambda: now[0])
    store.add(statement)
    statement.result = ResultSet([], [b"x" * 499])
    statement.set_status("FINISHED")
    store.settle(statement)
    assert store.result_bytes == 500
    now[0] += 61
    store.forget_expired()
    assert store.get("old") is None and store.result_bytes == 0


def test_store_spares_unread_results_for_the_grace_period_then_forgets_them():
    now = [100.0]
    store = StatementStore(lambda: now[0], 3600, max_result_bytes=250, unread_grace_s=30)
    for i in range(3):
        _finished(store, f"unread{i}", result_bytes=100, read=False)
    # Over budget, but nobody has fetched these yet: all kept while young.
    assert all(store.get(f"unread{i}") is not None for i in range(3)) and store.result_bytes == 300
    now[0] += 31
    _finished(store, "late", result_bytes=100, read=False)
    assert [store.get(f"unread{i}") is not None for i in range(3)] == [False, False, True]
    assert store.get("late") is not None and store.result_bytes == 200
