"""Following a growing metrics.jsonl: only complete lines, nothing twice, a rewrite restarts."""

import json

from labelhub.training.runner import MetricsFollower, Tail


def test_it_reads_only_complete_lines_and_each_once(tmp_path):
    path = tmp_path / "metrics.jsonl"
    follower = MetricsFollower(path)
    assert follower.read() == []  # not written yet
    path.write_text('{"step": 1, "loss": 1.0}\n{"step": 2, "lo')
    assert follower.read() == [{"step": 1, "loss": 1.0}]
    with open(path, "a") as fh:
        fh.write('ss": 0.5}\nnot json\n[1, 2]\n')
    assert follower.read() == [{"step": 2, "loss": 0.5}]
    assert follower.read() == []


def test_the_last_line_counts_at_the_end_even_without_a_newline(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(json.dumps({"step": 9, "eval_accuracy": 0.9}))
    follower = MetricsFollower(path)
    assert follower.read() == []
    assert follower.read(final=True) == [{"step": 9, "eval_accuracy": 0.9}]


def test_it_starts_over_when_the_file_is_rewritten(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n')
    follower = MetricsFollower(path)
    assert len(follower.read()) == 2
    path.write_text('{"step": 1}\n')
    assert follower.read() == [{"step": 1}]


def test_the_tail_keeps_the_last_bytes_as_text_without_nul():
    tail = Tail(limit=8)
    tail.add(b"0123456789")
    tail.add(b"ab\x00c\xff")
    assert tail.text() == "789abc\ufffd"
