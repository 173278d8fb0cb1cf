"""A reward model whose held-out accuracy does not show that it learned the preference — below
chance, too few held-out pairs, or none — is flagged: in the API, on the runs page, and on
the PPO/RLOO/evaluate forms that offer it, before anyone starts a run against it."""

from pathlib import Path

import pytest

from labelhub.training import services
from labelhub.training.models import RewardModel

pytestmark = pytest.mark.django_db

RUNS = "/campaigns/helpful/runs/"


def rm(campaign, name, accuracy, pairs):
    return RewardModel.objects.create(campaign=campaign, name=name, base_model="tiny-rm", adapter_path="/x/adapter",
                                      held_out_accuracy=accuracy, held_out_pairs=pairs)


@pytest.mark.parametrize("accuracy, pairs, reasons", [
    (0.81, 200, []),
    (0.5, 200, []),  # at chance is not below it (the too-few-pairs rule covers small samples)
    (0.27, 200, ["held-out accuracy 0.27 is below chance (0.50): it prefers the rejected answer more often than the chosen one"]),
    (0.9, 12, ["only 12 held-out pairs (fewer than 50): its accuracy cannot be told from chance"]),
    (0.8, None, []),  # registered before the count was kept, and its run's summary did not say
    (None, None, ["no held-out accuracy (its run held out no pairs)"]),
])
def test_it_flags_a_reward_model_that_does_not_beat_chance_on_enough_pairs(campaign, accuracy, pairs, reasons):
    model = rm(campaign, "rm", accuracy, pairs)
    assert (model.flag_reasons, model.flagged) == (reasons, bool(reasons))


def test_the_api_says_which_reward_models_are_flagged(api_as, engineer, campaign):
    rm(campaign, "bad", 0.27, 120), rm(campaign, "good", 0.8, 120)
    rows = {r["name"]: r for r in api_as(engineer).get("/api/campaigns/helpful/reward-models/").json()["results"]}
    assert (rows["bad"]["flagged"], rows["bad"]["held_out_pairs"], len(rows["bad"]["flag_reasons"])) == (True, 120, 1)
    assert (rows["good"]["flagged"], rows["good"]["flag_reasons"]) == (False, [])


def test_the_forms_that_use_a_reward_model_warn_before_it_is_chosen(client, engineer, campaign, policy, prompts):
    bad, good = rm(campaign, "reward-r7", 0.27, 120), rm(campaign, "reward-r8", 0.81, 120)
    client.force_login(engineer)
    html = client.get(RUNS).content.decode()
    assert f'<option value="{bad.pk}">reward-r7 · held-out accuracy 0.270 on 120 pairs · flagged</option>' in html
    assert f'<option value="{good.pk}">reward-r8 · held-out accuracy 0.810 on 120 pairs</option>' in html
    notices = html.count('<p class="message warning reward-model-notice" role="note"><strong>reward-r7 is flagged:</strong>')
    assert notices == 3  # the PPO, RLOO and evaluate forms each offer it
    assert "reward-r8 is flagged" not in html


def test_the_runs_page_lists_reward_models_with_their_flag(client, reviewer, campaign):
    bad = rm(campaign, "reward-r7", 0.27, 120)
    client.force_login(reviewer)
    html = client.get(RUNS).content.decode()
    row = html[html.index(f'<tr id="reward-model-{bad.pk}" class="flagged">'):]
    row = row[:row.index("</tr>")]
    assert "<td>0.270</td>" in row and "<td>120</td>" in row and "is below chance" in row


def test_registration_keeps_the_held_out_pair_count(make_run, snapshot):
    run = make_run(snapshot=snapshot, summary={"status": "succeeded", "eval_accuracy": 0.62, "eval_pairs": 34})
    Path(run.run_dir, "adapter").mkdir(parents=True)
    model = services.reward_model_register(run=run)
    assert (model.held_out_accuracy, model.held_out_pairs, model.flagged) == (0.62, 34, True)
