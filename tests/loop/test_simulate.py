"""`manage.py simulate`, one round of one seed end to end: the version PPO trains on the simulated
labelers' judgments wins clearly against the base under the hidden preference, with its guards
holding, and every figure of the row is there.

It is also the suite's test of the reward-model-and-PPO loop through the real jobs (it took over
what tests/loop/test_loop_ppo.py checked, more strictly). The DPO loop is tests/loop/test_loop_dpo.py.

One round, not the documented two (docs/loop.md, "What the tests check"): a second round doubles
the test's time (~110 s → ~220 s on one core, idle machine) to lift the win from round 1's
67–88% to round 2's 82–90%; the suite's question — does a version trained on the judgments beat
the base clearly, with KL, length and the reward model in bounds — round 1 answers. Measured with
`LABELHUB_TRAINER_THREADS=1 manage.py simulate --method ppo --rounds 1 --seed S` (seeds 1–3 give
the same row as round 1 of the documented two-round runs: each round has its own seeds):

| seed | win [95% CI], n=200 | BT [95% CI] | KL held / 8 | words | RM acc, its run (pairs) | RM acc, base pairs on the 50 held-out prompts |
|---|---|---|---|---|---|---|
| 1 | 66.8% [60.0%, 72.9%] | +0.62 [+0.31, +0.93] | 6.87 | 9.7 | 0.711 (128) | 0.693 (153) |
| 2 | 83.2% [77.5%, 87.8%] | +1.13 [+0.83, +1.58] | 6.69 | 12.1 | 0.742 (128) | 0.828 (145) |
| 3 | 78.0% [71.8%, 83.2%] | +0.94 [+0.62, +1.28] | 7.51 | 9.5 | 0.624 (117) | 0.717 (145) |
| 4 | 79.0% [72.8%, 84.1%] | +1.79 [+1.43, +2.27] | 6.54 | 9.0 | 0.460 (161) | 0.671 (155) |
| 5 | 85.2% [79.7%, 89.5%] | +1.61 [+1.25, +2.09] | 6.90 | 10.6 | 0.727 (161) | 0.762 (168) |
| 6 | 88.0% [82.8%, 91.8%] | +1.76 [+1.43, +2.12] | 6.41 | 11.3 | 0.776 (152) | 0.805 (154) |

Every guard held on every seed. The reward run's own held-out accuracy is measured on 10% of the
train prompts (~10 prompts, 117–161 pairs, clustered by prompt): seed 4's reward model scored 0.46
there (0.50 before training), yet its PPO version won 79% — and the two-round test asserted
above 0.6 for round 1 too, so it would have failed on seed 4. The test therefore checks that the
reward model beats chance where that has the power to show it: on the 50 held-out prompts, the
base's own answers paired (4 per prompt against 4 more), judged by the hidden preference, ties
left out — 0.67–0.83 on seeds 1–6, asserted above 0.6."""

import json

import pytest
from django.core.management import call_command

from labelhub.campaigns.models import Prompt
from labelhub.ops import preferences
from labelhub.training.models import LoopRound, Run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.trainer, pytest.mark.loop]


def reward_model_accuracy_on_base_pairs(
    reward: Run, base_answers: Run, preference: str
) -> tuple[float, int]:
    """The reward model's pairwise accuracy against the hidden preference on the held-out prompts:
    the base's sample i against its sample i + k of the same prompt (the simulation's compared
    answers against its second set), pairs the preference ties left out."""
    from trainer.score import RewardScorer

    k = base_answers.config["num_samples"] // 2
    by_prompt: dict[int, list[tuple[str, str]]] = {}
    with open(base_answers.summary["output"], encoding="utf-8") as fh:
        for line in filter(str.strip, fh):
            item = json.loads(line)
            by_prompt.setdefault(item["id"], []).append((item["prompt"], item["completion"]))
    pairs = [
        (texts[i][0], texts[i][1], texts[i + k][1])
        for texts in by_prompt.values()
        for i in range(k)
    ]
    score = preferences.get(preference)
    pairs = [
        (p, a, b) if score(p, a) > score(p, b) else (p, b, a)
        for p, a, b in pairs
        if score(p, a) != score(p, b)
    ]
    scorer = RewardScorer(reward.run_dir)
    chosen = scorer.score([p for p, _, _ in pairs], [a for _, a, _ in pairs])
    rejected = scorer.score([p for p, _, _ in pairs], [b for _, _, b in pairs])
    return sum(c > r for c, r in zip(chosen, rejected, strict=True)) / len(pairs), len(pairs)


def test_it_learns_the_hidden_preference_with_ppo_and_keeps_its_guards(data_dir, tmp_path, capsys):
    out = tmp_path / "sim"
    call_command(
        "simulate",
        method="ppo",
        rounds=1,
        seed=1,
        preference="addressed",
        noise=0.1,
        labelers=3,
        out=str(out),
    )

    result = json.loads((out / "results.json").read_text())
    [row] = result["rounds"]
    print(json.dumps(row, indent=1))
    # seeds 1-6 (above): 66.8-88.0%, the lower end 60.0-82.8%; chance is 50%, the base's best-of-4 ~70-76%
    assert row["comparisons"] >= 200
    assert row["win_rate"] >= 0.62 and row["win_low"] > 0.55, row
    assert row["guards_ok"], row["guard_notes"]
    # 9.0-12.1 words (the base: ~21); KL held 6.4-7.5 against the target 8
    assert row["length_words"] >= 7 and row["kl_run"] <= row["kl_target"]
    # the simulated labelers rank it above the base too: the lower end +0.31 to +1.43
    assert row["bt_strength"] > 0 and row["bt_low"] > 0.15, row
    assert 0 < row["reward_accuracy"] <= 1 and row["kl_to_base"] > 0
    # the real loop ran: runs as jobs to success, the loop round in the queue, the table printed and written
    assert not Run.objects.exclude(state=Run.State.SUCCEEDED).exists()
    assert LoopRound.objects.filter(state=LoopRound.State.LABELING).count() == 1
    # the PPO run logged its KL at every step and registered a version of the base, which its
    # loop round sent to the labelers
    [ppo] = Run.objects.filter(kind=Run.Kind.PPO).select_related("produced_policy")
    assert ppo.config["steps"] == 60  # the recipe's, as documented
    assert ppo.metrics.filter(values__has_key="objective/kl").count() >= ppo.config["steps"]
    assert ppo.produced_policy.parent.name == "tiny-base"
    assert LoopRound.objects.get(policy=ppo.produced_policy).tasks_created > 0
    printed = capsys.readouterr().out
    assert "| 1 | tiny-base-ppo-r" in printed and (out / "results.md").read_text() in printed

    # the reward model beats chance on the held-out prompts: 0.67-0.83 on seeds 1-6, 145-168 pairs
    [reward] = Run.objects.filter(kind=Run.Kind.REWARD)
    base_answers = Run.objects.filter(
        kind=Run.Kind.GENERATE, policy__name="tiny-base", prompt_split=Prompt.Split.HELD_OUT
    ).earliest("id")
    assert base_answers.config["num_samples"] == 8  # 4 compared with the version's, 4 more
    accuracy, pairs = reward_model_accuracy_on_base_pairs(reward, base_answers, "addressed")
    print(f"reward model: {accuracy:.3f} of {pairs} base pairs on the held-out prompts")
    assert pairs >= 120 and accuracy > 0.6
