"""GroupCommit: callers at once share batches, each gets its own result, batches never
overlap, and a failure reaches exactly the callers of its batch."""

from __future__ import annotations

import threading
import time

import pytest

from chat.concurrency import GroupCommit


def run_at_once(count, target):
    start = threading.Barrier(count)
    results: dict[int, object] = {}

    def one(n):
        start.wait()
        try:
            results[n] = target(n)
        except Exception as error:  # recorded, checked by the test
            results[n] = error

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a caller never got its answer"
    return results


def test_concurrent_callers_share_batches_and_each_gets_its_own_result():
    batches: list[list[int]] = []
    running = threading.Lock()

    def run(items):
        assert running.acquire(blocking=False), "two batches overlapped"
        try:
            batches.append(list(items))
            time.sleep(0.01)  # the commit: long enough for others to queue up
            return [item * 10 for item in items]
        finally:
            running.release()

    log = GroupCommit(run)
    results = run_at_once(40, log.submit)
    assert results == {n: n * 10 for n in range(40)}
    assert sorted(n for batch in batches for n in batch) == list(range(40))
    assert len(batches) < 40, "nobody shared a batch"
    assert max(len(batch) for batch in batches) > 1


def test_a_lone_caller_is_its_own_batch():
    calls = []
    log = GroupCommit(lambda items: calls.append(items) or [i + 1 for i in items])
    assert [log.submit(n) for n in range(3)] == [1, 2, 3]
    assert calls == [[0], [1], [2]]


def test_a_failed_batch_fails_its_callers_and_the_next_batch_goes_on():
    seen = []

    def run(items):
        seen.append(list(items))
        if len(seen) == 1:
            time.sleep(0.02)
            raise RuntimeError("disk full")
        return list(items)

    log = GroupCommit(run)
    results = run_at_once(10, log.submit)
    failed = [n for n, r in results.items() if isinstance(r, RuntimeError)]
    assert sorted(failed) == sorted(seen[0])
    assert all(results[n] == n for n in results if n not in failed)


def test_batches_are_capped():
    sizes = []

    def run(items):
        sizes.append(len(items))
        time.sleep(0.005)
        return items

    log = GroupCommit(run, max_batch=4)
    run_at_once(30, log.submit)
    assert max(sizes) <= 4


@pytest.mark.parametrize("callers", [2, 17])
def test_the_lead_passes_on_without_anyone_waiting_forever(callers):
    """The leader stops once its own item is done and hands over; repeated rounds of
    bursts must all end."""
    log = GroupCommit(lambda items: [time.sleep(0.001) or i for i in items])
    for _ in range(5):
        assert run_at_once(callers, log.submit) == {n: n for n in range(callers)}
