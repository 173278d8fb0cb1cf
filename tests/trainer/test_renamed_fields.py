"""A renamed config field (evaluate's ``heldout`` → ``held_out``, one spelling per concept) is
read under its old name too — from a config file and as a flag — so configs written before the
rename still run; the schema and --help lead with the new name only."""

import json

from trainer.cli import build_parser
from trainer.config import load_config
from trainer.evaluate import EvaluateConfig
from trainer.schema import aliases, json_schema


def test_it_reads_the_old_spelling_from_a_config_file(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"prompts": "p.txt", "heldout": "prose.txt"}))
    assert load_config(EvaluateConfig, path).held_out == "prose.txt"


def test_the_new_spelling_wins_over_the_old_one_in_flags(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("heldout: old.txt\n")
    cfg = load_config(EvaluateConfig, path, {"held_out": "new.txt"}, from_flags=True)
    assert cfg.held_out == "new.txt"


def test_both_flags_set_the_same_field():
    parser = build_parser("evaluate", EvaluateConfig)
    assert parser.parse_args(["--held-out", "a.txt"]).held_out == "a.txt"
    assert parser.parse_args(["--heldout", "b.txt"]).held_out == "b.txt"
    assert "--heldout: the old spelling, deprecated" in " ".join(parser.format_help().split())


def test_the_schema_names_only_the_new_spelling():
    properties = json_schema("evaluate")["properties"]
    assert "held_out" in properties and "heldout" not in properties
    assert aliases("evaluate") == {"heldout": "held_out"}
    assert aliases("generate") == {}
