"""progress.json (how far a phase is, for the platform's "step x of N" and time left) and the
log lines a run prints when no progress bar is drawn. Pure Python: no model is loaded."""

import json

from trainer.config import RunConfig
from trainer.runfolder import Progress, RunFolder


def folder_for(tmp_path, progress="auto"):
    return RunFolder(tmp_path / "run", "test", RunConfig(out=str(tmp_path / "run"), progress=progress))


def read_progress(tmp_path):
    return json.loads((tmp_path / "run" / "progress.json").read_text())


def test_it_writes_the_total_at_once_and_the_time_left_once_a_unit_is_done(tmp_path, monkeypatch):
    folder = folder_for(tmp_path)
    clock = [1000.0]
    monkeypatch.setattr("trainer.runfolder.time.time", lambda: clock[0])
    progress = folder.progress(10, "ppo")
    assert read_progress(tmp_path) == {"phase": "ppo", "unit": "step", "done": 0, "total": 10,
                                       "elapsed_s": 0.0, "eta_s": None}
    clock[0] += 4.0
    progress.update(2)  # 2 steps in 4 s: 8 left take 16 s
    assert read_progress(tmp_path) | {"elapsed_s": None} == {"phase": "ppo", "unit": "step", "done": 2, "total": 10,
                                                              "elapsed_s": None, "eta_s": 16.0}
    clock[0] += 0.5
    progress.update(1)  # within a second of the last write: not written
    assert read_progress(tmp_path)["done"] == 2
    progress.set(10)  # the end is always written
    assert (read_progress(tmp_path)["done"], read_progress(tmp_path)["eta_s"]) == (10, 0.0)


def test_a_resumed_phase_counts_its_pace_from_where_it_started(tmp_path, monkeypatch):
    folder = folder_for(tmp_path)
    clock = [50.0]
    monkeypatch.setattr("trainer.runfolder.time.time", lambda: clock[0])
    progress = folder.progress(20, "ppo", initial=10)
    clock[0] += 5.0
    progress.update(5)
    assert (read_progress(tmp_path)["done"], read_progress(tmp_path)["eta_s"]) == (15, 5.0)


def test_without_a_bar_it_prints_each_metrics_line_with_the_step_of_the_total(tmp_path, capsys):
    folder = folder_for(tmp_path)  # stderr is not a terminal under pytest: no bar
    folder.progress(30, "train", bar=False)
    folder.log(3, loss=0.61234, **{"timing/step_s": 0.2}, epoch=None)
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "step 3/30 loss=0.6123"


def test_a_phase_without_metrics_lines_prints_how_far_it_is(tmp_path, capsys, monkeypatch):
    folder = folder_for(tmp_path)
    clock = [0.0]
    monkeypatch.setattr("trainer.runfolder.time.time", lambda: clock[0])
    progress = folder.progress(64, "generate", unit="completion")
    clock[0] += Progress.LINE_SECONDS
    progress.update(16)
    assert capsys.readouterr().out.splitlines()[-1] == "generate: completion 16 of 64, 15 s left"


def test_progress_off_prints_nothing(tmp_path, capsys):
    folder = folder_for(tmp_path, progress="off")
    folder.progress(4, "train").update(4)
    folder.log(4, loss=0.5)
    assert capsys.readouterr().out == ""
    assert read_progress(tmp_path)["done"] == 4  # the platform still learns how far it is
