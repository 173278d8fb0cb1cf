import gzip
import json

from tests.trainer.synthetic import write_jsonl
from trainer.data import load_preferences, split_by_group, split_dialogue


def test_it_reads_trl_pairs_and_ignores_provenance_columns(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [
        {"prompt": "Q1", "chosen": " a", "rejected": " b", "margin": 1.5, "task_id": 7, "labelers": ["x"], "guideline_version": 2},
        {"prompt": "Q2", "chosen": " c", "rejected": " d", "task_id": 8, "policies": ["p1", "p2"]},
    ])
    pairs = load_preferences(path)
    assert pairs == [
        {"prompt": "Q1", "chosen": " a", "rejected": " b", "margin": 1.5, "group": "7"},
        {"prompt": "Q2", "chosen": " c", "rejected": " d", "margin": 0.0, "group": "8"},
    ]


def test_it_expands_a_ranking_with_ties_to_its_ordered_pairs_in_one_group(tmp_path):
    path = write_jsonl(tmp_path / "r.jsonl", [
        {"prompt": "Q", "completions": ["A", "B", "C", "D"], "ranks": [2, 1, 2, 3], "task_id": "t1"},
        {"prompt": "Q2", "completions": ["E", "F", "G"], "order": [2, [0, 1]]},
    ])
    pairs = load_preferences(path)
    first = [(p["chosen"], p["rejected"]) for p in pairs if p["prompt"] == "Q"]
    # K = 4 gives 6 pairs; the A/C tie gives none.
    assert sorted(first) == sorted([("B", "A"), ("B", "C"), ("B", "D"), ("A", "D"), ("C", "D")])
    assert {p["group"] for p in pairs if p["prompt"] == "Q"} == {"t1"}
    second = [(p["chosen"], p["rejected"]) for p in pairs if p["prompt"] == "Q2"]
    assert sorted(second) == [("G", "E"), ("G", "F")]


def test_it_splits_hh_rlhf_dialogues_into_the_shared_prompt_and_final_answers(tmp_path):
    chosen = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Help me?\n\nAssistant: Sure, with what?"
    rejected = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Help me?\n\nAssistant: No."
    with gzip.open(tmp_path / "hh.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"chosen": chosen, "rejected": rejected}) + "\n")
    [pair] = load_preferences(tmp_path / "hh.jsonl.gz")
    assert pair["prompt"] == "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Help me?\n\nAssistant:"
    assert (pair["chosen"], pair["rejected"]) == (" Sure, with what?", " No.")
    # answers that share their start still split at the last shared Assistant turn
    assert split_dialogue("\n\nHuman: x\n\nAssistant: Yes it is", "\n\nHuman: x\n\nAssistant: Yes no")[1:] == (" Yes it is", " Yes no")


def test_it_reads_a_datasets_directory(tmp_path):
    from datasets import Dataset

    Dataset.from_list([{"prompt": "Q", "chosen": " a", "rejected": " b", "extra": 1}]).save_to_disk(str(tmp_path / "ds"))
    assert load_preferences(tmp_path / "ds")[0]["chosen"] == " a"


def test_it_splits_by_group_deterministically(tmp_path):
    rows = [{"group": f"g{i // 3}", "i": i} for i in range(300)]  # 100 groups of 3
    train, held = split_by_group(rows, 0.2, seed=0)
    again_train, again_held = split_by_group(rows, 0.2, seed=0)
    _, other_held = split_by_group(rows, 0.2, seed=1)
    assert (train, held) == (again_train, again_held)
    assert len(held) == 60 and len({r["group"] for r in held}) == 20
    assert not {r["group"] for r in train} & {r["group"] for r in held}
    assert held != other_held
