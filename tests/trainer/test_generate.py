import json

import pytest

from tests.trainer.synthetic import FIXTURES

pytestmark = pytest.mark.trainer


def _generate(out, prompts_file, **kw):
    from trainer.generate import GenerateConfig, run

    cfg = GenerateConfig(out=str(out), prompts=str(prompts_file), max_new_tokens=24, batch_size=3, progress="off", **kw)
    result = run(cfg)
    return [json.loads(line) for line in (result.out / "completions.jsonl").read_text().splitlines()]


def test_it_is_reproducible_for_a_seed(tiny_models, prompts_file, runs_dir):
    first = _generate(runs_dir / "gen-a", prompts_file, seed=7)
    again = _generate(runs_dir / "gen-b", prompts_file, seed=7)
    other = _generate(runs_dir / "gen-c", prompts_file, seed=8)
    assert [r["completion"] for r in first] == [r["completion"] for r in again]
    assert [r["completion"] for r in first] != [r["completion"] for r in other]


def test_it_stops_at_eos_or_the_token_limit_and_records_settings(tiny_models, prompts_file, runs_dir):
    rows = _generate(runs_dir / "gen-d", prompts_file, seed=1, num_samples=2, temperature=0.8)
    assert len(rows) == 16
    assert {r["finish_reason"] for r in rows} <= {"eos", "length"}
    assert any(r["finish_reason"] == "eos" for r in rows)
    for r in rows:
        assert r["tokens"] <= 24
        if r["finish_reason"] == "length":
            assert r["tokens"] == 24
        assert "<|endoftext|>" not in r["completion"]
        assert r["settings"]["temperature"] == 0.8 and r["settings"]["seed"] == 1


def test_it_renders_few_shot_examples_through_the_chat_template(tiny_models, prompts_file, runs_dir):
    examples = str(FIXTURES / "instructions.jsonl")
    rows = _generate(runs_dir / "gen-e", prompts_file, template="few-shot", shots=2, examples=examples)
    rendered = rows[0]["rendered_prompt"]
    assert rendered.count("<|user|>") == 3 and rendered.count("<|assistant|>") == 3
    assert rendered.startswith("<|user|>Write a short note to a neighbor")
    assert rendered.endswith(f"<|user|>{rows[0]['prompt']}<|endoftext|><|assistant|>")


def test_it_puts_retrieved_passages_into_the_prompt_and_records_them(tiny_models, data_dir, runs_dir):
    from tests.trainer.synthetic import write_jsonl

    passages = [{"id": 41, "document": "atlas", "text": "The capital of Veltoria\n is Quenmarch."},
                {"id": 7, "document": "atlas", "text": "The capital of Ardune is Polwise."}]
    prompts = write_jsonl(data_dir / "rag-prompts.jsonl", [
        {"id": 1, "prompt": "What is the capital of Veltoria?", "passages": passages},
        {"id": 2, "prompt": "What is the capital of Veltoria?"}])
    rows = _generate(runs_dir / "gen-rag", prompts, seed=0, layout="plain")
    assert rows[0]["passages"] == [41, 7] and "passages" not in rows[1]
    assert rows[0]["rendered_prompt"] == (
        "Question: Sources:\n[1] The capital of Veltoria is Quenmarch.\n[2] The capital of Ardune is Polwise.\n\n"
        "What is the capital of Veltoria?\nAnswer:")
    assert rows[1]["rendered_prompt"] == "Question: What is the capital of Veltoria?\nAnswer:"
    chat = _generate(runs_dir / "gen-rag-chat", prompts, seed=0)
    assert chat[0]["rendered_prompt"].startswith("<|user|>Sources:\n[1] The capital of Veltoria is Quenmarch.")


def test_it_refuses_passages_that_are_not_a_list_of_texts(data_dir):
    from tests.trainer.synthetic import write_jsonl
    from trainer.data import DataError, load_prompts

    bad = write_jsonl(data_dir / "bad-rag.jsonl", [{"prompt": "q", "passages": [{"id": 1}]}])
    with pytest.raises(DataError, match=r"passages\[0\] must be an object with a 'text' string"):
        load_prompts(bad)
