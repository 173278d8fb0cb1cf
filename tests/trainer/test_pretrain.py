"""``trainer pretrain``: causal LM on a domain corpus, LoRA or full. On a corpus of one
domain's sentences the held-out passages (never trained on) get less perplexing; the run folder
holds what the platform registers (an adapter, or a whole model for a full run)."""

import json
import random

import pytest

from tests.trainer.synthetic import write_jsonl

pytestmark = pytest.mark.trainer

PLACES = ["Tanbrisel", "Lumpazu", "Miselven", "Zutiska", "Brikalum", "Selpati", "Lotanfi", "Dorlum"]


@pytest.fixture(scope="module")
def corpus(data_dir):
    rnd = random.Random(0)
    rows = [{"text": f"The harbour of {rnd.choice(PLACES)} trades salt, rope and amber with {rnd.choice(PLACES)} "
                     f"every {rnd.choice(['spring', 'autumn', 'winter'])}."} for _ in range(60)]
    return write_jsonl(data_dir / "domain.jsonl", rows)


def pretrain(out, corpus, **kw):
    from trainer.pretrain import PretrainConfig, run

    return run(PretrainConfig(out=str(out), data=str(corpus), max_steps=20, batch_size=4, max_length=64,
                              eval_fraction=0.2, log_every=5, progress="off", **kw))


def test_lora_lowers_the_held_out_perplexity_of_the_domain(tiny_models, corpus, runs_dir):
    result = pretrain(runs_dir / "pretrain-lora", corpus, learning_rate=3e-3)
    s = result.summary
    assert s["eval_passages"] == 12 and s["train_passages"] == 48
    assert s["perplexity_after"] < s["perplexity_before"] * 0.9, s
    assert s["perplexity_ratio"] == pytest.approx(s["perplexity_after"] / s["perplexity_before"])
    assert s["params_trainable"] < s["params_total"] / 5  # an adapter, not the model
    assert (result.out / "adapter" / "adapter_config.json").is_file()
    assert json.loads((result.out / "model.json").read_text())["adapter"] == "adapter"
    assert [json.loads(line)["step"] for line in (result.out / "metrics.jsonl").read_text().splitlines()] == [5, 10, 15, 20]


def test_full_training_saves_the_whole_model(tiny_models, corpus, runs_dir):
    from trainer.models import load_causal_lm, resolve_model

    result = pretrain(runs_dir / "pretrain-full", corpus, full=True, learning_rate=1e-3)
    s = result.summary
    assert s["perplexity_after"] < s["perplexity_before"], s
    assert s["params_trainable"] == s["params_total"]
    info = json.loads((result.out / "model.json").read_text())
    assert info["adapter"] is None and info["base"] == str(result.out / "model")
    load_causal_lm(resolve_model(str(result.out)))  # the run folder loads as a model


def test_it_refuses_a_full_run_on_an_adapter(tiny_models, corpus, runs_dir, dpo_run):
    from trainer.config import ConfigError

    with pytest.raises(ConfigError, match="full"):
        pretrain(runs_dir / "pretrain-refused", corpus, full=True, adapter=str(dpo_run.out))
