import json

import pytest

from tests.trainer.synthetic import write_jsonl

pytestmark = pytest.mark.trainer


def test_it_scores_the_same_alone_and_in_padded_batches(reward_run):
    from trainer.score import RewardScorer

    scorer = RewardScorer(str(reward_run.out), batch_size=8)
    prompts = ["What is the sun?", "How do I boil an egg?", "Why?"]
    completions = [" The answer is kind and calm. That is all.", " The answer is rude.", " It is a very long answer " * 6]
    batched = scorer.score(prompts, completions)
    alone = [scorer.score([p], [c])[0] for p, c in zip(prompts, completions, strict=True)]
    assert batched == pytest.approx(alone, abs=1e-5)
    assert len({round(s, 4) for s in batched}) == 3


def test_it_appends_eos_like_the_reward_trainer(reward_run):
    from trainer.score import RewardScorer

    scorer = RewardScorer(str(reward_run.out))
    ids = scorer.encode(["Q?"], [" A."])[0]
    assert ids[-1] == scorer.tokenizer.eos_token_id
    assert ids.count(scorer.tokenizer.eos_token_id) == 1


def test_it_prefers_the_kind_answer_and_writes_scores_jsonl(reward_run, data_dir, runs_dir):
    from trainer.score import ScoreConfig, run

    texts = write_jsonl(
        data_dir / "texts.jsonl",
        [
            {"prompt": "What is a map?", "completion": " The answer is gentle and honest. I hope this helps."},
            {"prompt": "What is a map?", "completion": " The answer is cruel and sloppy. I hope this helps."},
        ],
    )
    result = run(ScoreConfig(out=str(runs_dir / "score"), model=str(reward_run.out), data=str(texts), progress="off"))
    scores = [json.loads(line)["score"] for line in (result.out / "scores.jsonl").read_text().splitlines()]
    assert scores[0] > scores[1]
    assert result.summary["count"] == 2
