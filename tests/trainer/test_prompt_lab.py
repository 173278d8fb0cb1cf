"""`trainer prompt-lab`: variants of one prompt template and sampling settings answer the same
prompts with the same seed; answers.jsonl holds them side by side with ROUGE against the
references; the summary has each variant's means. Bad variants are refused naming the item."""

import json

import pytest

from tests.trainer.synthetic import FIXTURES
from trainer.config import ConfigError
from trainer.schema import validate
from trainer.textmetrics import rouge_l

EXAMPLES = str(FIXTURES / "instructions.jsonl")


def lab(**values):
    return validate("prompt-lab", {"out": "r", "prompts": "p"} | values)


@pytest.mark.parametrize(("variants", "words"), [
    ([], "needs at least one variant"),
    ([{"template": "cot"}], "item 0 needs a name"),
    (["cot"], "'cot' is not a valid dict"),  # the loader's type check, before the variant's
    ([{"name": "a", "temprature": 0.5}], "item 0: 'temprature' is not a variant setting"),
    ([{"name": "a"}, {"name": "a", "top_k": 5}], "item 1: the name 'a' is used twice"),
    ([{"name": "cold", "temperature": 0}], "item 0 (cold): temperature must be > 0 when do_sample is true"),
    ([{"name": "x", "top_p": 1.5}], "item 0 (x): top_p must be <= 1"),
    ([{"name": "3-shot", "template": "few-shot"}], "item 0 (3-shot): examples is required by template 'few-shot'"),
    ([{"name": "1-shot", "template": "few-shot", "shots": 1}], "item 0 (1-shot): shots must be >= 2"),
])
def test_a_bad_variant_is_refused_naming_the_item(variants, words):
    with pytest.raises(ConfigError) as err:
        lab(variants=variants, examples=None if "examples" in words else EXAMPLES)
    (field, message), *_ = err.value.problems
    assert field == "variants" and words in str(err.value), err.value.problems


def test_a_variant_changes_only_what_it_names():
    cfg = lab(temperature=0.7, max_new_tokens=20, variants=[{"name": "greedy", "do_sample": False}])
    assert cfg.variants == [{"name": "greedy", "do_sample": False}]
    from trainer.promptlab import variant_settings

    settings = variant_settings(cfg, cfg.variants[0], 0)
    assert (settings.do_sample, settings.temperature, settings.max_new_tokens) == (False, 0.7, 20)


@pytest.mark.trainer
def test_it_answers_each_prompt_with_each_variant_side_by_side(tiny_models, prompts_file, runs_dir):
    from trainer.promptlab import PromptLabConfig, run

    variants = [
        {"name": "zero-shot", "template": "zero-shot", "do_sample": False},
        {"name": "zero-shot again", "template": "zero-shot", "do_sample": False},
        {"name": "2-shot", "template": "few-shot", "shots": 2},
        {"name": "cot hot", "template": "cot", "temperature": 1.3, "top_k": 20},
    ]
    cfg = PromptLabConfig(out=str(runs_dir / "lab"), prompts=str(prompts_file), examples=EXAMPLES,
                          variants=variants, max_new_tokens=12, batch_size=4, progress="off", seed=3)
    result = run(cfg)
    rows = [json.loads(line) for line in (result.out / "answers.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and all(len(r["answers"]) == 4 for r in rows)
    assert [a["variant"] for a in rows[0]["answers"]] == [v["name"] for v in variants]
    greedy, again, shots, cot = zip(*(r["answers"] for r in rows), strict=True)
    assert [a["completion"] for a in greedy] == [a["completion"] for a in again]  # same settings, same answers
    assert shots[0]["rendered_prompt"].count("<|assistant|>") == 3  # two examples, then the prompt
    assert "Let's think step by step." in cot[0]["rendered_prompt"]
    for row in rows:
        for answer in row["answers"]:
            assert answer["tokens"] <= 12
            assert answer["rougeL"] == pytest.approx(rouge_l(answer["completion"], row["reference"]))

    summary = result.summary
    assert summary["status"] == "succeeded" and summary["prompts"] == summary["with_reference"] == 8
    by_name = {v["name"]: v for v in summary["variants"]}
    assert by_name["cot hot"]["settings"] | {} == {"template": "cot", "shots": 3, "temperature": 1.3, "top_k": 20,
                                                   "top_p": 1.0, "max_new_tokens": 12, "do_sample": True}
    assert by_name["2-shot"]["rouge1"] == pytest.approx(sum(a["rouge1"] for a in shots) / 8)
    assert by_name["zero-shot"]["mean_tokens"] == pytest.approx(sum(a["tokens"] for a in greedy) / 8)
    best = max(summary["variants"], key=lambda v: v["rougeL"])
    assert summary["best_rougeL"] == best["name"]


@pytest.mark.trainer
def test_too_few_examples_for_a_variant_fail_the_run_naming_examples(tiny_models, prompts_file, runs_dir, tmp_path):
    from trainer.promptlab import PromptLabConfig, run

    one = tmp_path / "one.jsonl"
    one.write_text((FIXTURES / "instructions.jsonl").read_text().splitlines()[0] + "\n")
    cfg = PromptLabConfig(out=str(runs_dir / "lab-short"), prompts=str(prompts_file), examples=str(one),
                          variants=[{"name": "4-shot", "template": "few-shot", "shots": 4}], progress="off")
    with pytest.raises(ConfigError, match="field 'examples' has 1 examples; variant 0 \\(4-shot\\) needs 4"):
        run(cfg)
