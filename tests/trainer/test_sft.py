import json

import pytest

from tests.trainer.synthetic import FIXTURES, write_jsonl

pytestmark = pytest.mark.trainer


@pytest.fixture(scope="module")
def sft_run(tiny_models, data_dir, runs_dir):
    """Demonstrations in a house style the tiny LM has never seen: "Sure! … Hope that helps." """
    from trainer.sft import SFTConfig, run

    qa = [json.loads(line) for line in (FIXTURES / "qa.jsonl").read_text().splitlines() if line]
    demos = write_jsonl(
        data_dir / "demos.jsonl",
        [{"prompt": r["prompt"], "response": f"Sure! {r['response']} Hope that helps."} for r in qa],
    )
    cfg = SFTConfig(out=str(runs_dir / "sft"), data=str(demos), epochs=2, eval_fraction=0.2, progress="off")
    return run(cfg)


def test_it_lowers_the_held_out_response_loss(sft_run):
    s = sft_run.summary
    assert s["eval_examples"] == 21
    assert s["eval_response_loss"] < s["eval_response_loss_before"] - 0.2


def test_it_counts_only_response_tokens_in_the_loss(sft_run):
    text = sft_run.summary["loss_text_example"]
    assert text.startswith("Sure! ") and text.endswith("Hope that helps.<|endoftext|>")
    assert "<|user|>" not in text and "<|assistant|>" not in text
