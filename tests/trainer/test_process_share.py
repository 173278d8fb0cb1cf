"""What each process of an ``accelerate launch`` takes: its slice of every batch (a batch that
does not divide is refused, naming the field) and its share of the machine's cores."""

from types import SimpleNamespace

import pytest

from trainer import runtime
from trainer.config import ConfigError
from trainer.distributed import World, check_divisible


def test_it_gives_each_rank_consecutive_rows_that_make_up_the_batch():
    assert [World(rank=r, size=4).shard(8) for r in range(4)] == [
        slice(0, 2),
        slice(2, 4),
        slice(4, 6),
        slice(6, 8),
    ]
    assert World().shard(8) == slice(0, 8)


def test_it_refuses_a_batch_that_does_not_divide_among_the_processes():
    check_divisible(SimpleNamespace(batch_size=8, minibatch_size=4), 4)
    check_divisible(SimpleNamespace(batch_size=7), 1)
    with pytest.raises(
        ConfigError, match=r"field 'batch_size': 6 does not divide among 4 processes"
    ):
        check_divisible(SimpleNamespace(batch_size=6), 4)
    with pytest.raises(
        ConfigError, match=r"field 'minibatch_size': 2 does not divide among 4 processes"
    ):
        check_divisible(SimpleNamespace(batch_size=8, minibatch_size=2), 4)


def test_it_splits_the_cores_between_the_processes_on_the_machine(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_count", lambda: 16)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    assert runtime.pick_threads(0, "cpu") == 8
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")
    assert runtime.pick_threads(0, "cpu") == 2
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "8")  # 2 cores each: 1 thread, as on a 2-core machine
    assert runtime.pick_threads(0, "cpu") == 1
    assert runtime.pick_threads(3, "cpu") == 3  # an explicit count is kept
