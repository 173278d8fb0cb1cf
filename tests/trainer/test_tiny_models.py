import hashlib
import json

import pytest

from tests.trainer.synthetic import FIXTURES

pytestmark = pytest.mark.trainer


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_it_builds_the_same_models_from_the_same_seed(tmp_path):
    from trainer.tiny import TinyModelConfig, run

    outs = [run(TinyModelConfig(out=str(tmp_path / n), steps_scale=0.03, progress="off")).out for n in "ab"]
    for rel in ("lm/model.safetensors", "rm/model.safetensors", "lm/tokenizer.json"):
        assert _sha(outs[0] / rel) == _sha(outs[1] / rel), rel


def test_it_makes_a_chat_lm_and_a_one_output_reward_backbone(tiny_models):
    lm = json.loads((tiny_models / "lm" / "config.json").read_text())
    rm = json.loads((tiny_models / "rm" / "config.json").read_text())
    assert lm["architectures"] == ["LlamaForCausalLM"]
    assert rm["architectures"] == ["LlamaForSequenceClassification"] and len(rm["id2label"]) == 1
    assert (tiny_models / "lm" / "chat_template.jinja").is_file()
    assert json.loads((tiny_models / "summary.json").read_text())["status"] == "succeeded"


def test_its_lm_samples_are_mostly_words_from_the_corpus(tiny_models):
    import re

    from trainer.generate import GenerateConfig, sample_completions
    from trainer.models import load_causal_lm, load_tokenizer, resolve_model

    vocab = set()
    for name in ("prose.txt", "qa.jsonl", "instructions.jsonl", "dialogues.txt"):
        vocab |= set(re.findall(r"[a-z]+", (FIXTURES / name).read_text().lower()))
    ref = resolve_model("tiny")
    tok = load_tokenizer(ref)
    texts = [tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
             for q in ("How do I make tea?", "What is a river?", "Tell me about the sea.", "Why do birds sing?")]
    cfg = GenerateConfig(max_new_tokens=40, batch_size=4)
    samples = sample_completions(load_causal_lm(ref), tok, texts, cfg, seed=0, device="cpu")
    words = [w for s in samples for w in re.findall(r"[a-z]+", s["completion"].lower())]
    assert len(words) >= 40
    assert sum(w in vocab for w in words) / len(words) >= 0.7
