"""A policy run that succeeds registers a new Policy version (parent = the policy it started
from) and queues the loop's step; a reward run registers a RewardModel and queues none."""

import json
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync

from labelhub.training import runner
from labelhub.training.models import RewardModel, Run
from tests.training.conftest import SUCCEEDING_TRAINER, loop_steps_queued

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_registers_a_new_policy_version_and_queues_the_loop_step(make_run, policy, snapshot, stand_in):
    run = make_run(kind=Run.Kind.DPO, policy=policy, snapshot=snapshot)
    assert async_to_sync(runner.run_job)(run_id=run.pk, command=stand_in(SUCCEEDING_TRAINER)(run)) == "succeeded"
    run.refresh_from_db()
    new = run.produced_policy
    assert new.name == f"base-dpo-r{run.pk}"
    assert (new.parent, new.base_model, new.adapter_path) == (policy, "tiny", str(Path(run.run_dir) / "adapter"))
    assert (new.generation_settings, new.prompt_template_kind) == (policy.generation_settings, policy.prompt_template_kind)
    assert loop_steps_queued() == [run.pk]
    assert list(run.metrics.values_list("step", flat=True)) == [1, 2, 3]


def test_a_ppo_policy_takes_the_merged_base_its_run_folder_names(make_run, policy, reward_model, stand_in):
    run = make_run(kind=Run.Kind.PPO, policy=policy, reward_model=reward_model)
    trainer = SUCCEEDING_TRAINER.replace('{"base": "tiny"', '{"base": str(out / "base")')
    async_to_sync(runner.run_job)(run_id=run.pk, command=stand_in(trainer)(run))
    run.refresh_from_db()
    assert run.produced_policy.base_model == str(Path(run.run_dir) / "base")


def test_a_success_without_an_adapter_is_a_failed_run_and_registers_nothing(make_run, policy, snapshot, stand_in):
    run = make_run(kind=Run.Kind.DPO, policy=policy, snapshot=snapshot)
    trainer = 'out.mkdir(parents=True, exist_ok=True)\n(out / "summary.json").write_text(json.dumps({"status": "succeeded"}))\n'
    async_to_sync(runner.run_job)(run_id=run.pk, command=stand_in(trainer)(run))
    run.refresh_from_db()
    assert run.state == "failed"
    assert run.error.startswith("the trainer finished, but registering what it produced failed: the run folder has no adapter/")
    assert (run.produced_policy, loop_steps_queued()) == (None, [])


def test_a_reward_run_registers_a_reward_model_with_its_held_out_accuracy(make_run, snapshot, stand_in):
    run = make_run(kind=Run.Kind.REWARD, snapshot=snapshot, config={"model": "tiny-rm"})
    async_to_sync(runner.run_job)(run_id=run.pk, command=stand_in(SUCCEEDING_TRAINER)(run))
    run.refresh_from_db()
    rm = RewardModel.objects.get()
    assert run.produced_reward_model == rm
    assert (rm.name, rm.held_out_accuracy, rm.snapshot, rm.base_model) == (f"reward-r{run.pk}", 0.75, snapshot, "tiny")
    assert loop_steps_queued() == []


def test_generate_and_evaluate_get_a_prompts_file_and_their_inputs(make_run, policy, reward_model, prompts, stand_in):
    run = make_run(kind=Run.Kind.EVALUATE, policy=policy, reward_model=reward_model, config={"seed": 1})
    trainer = 'print(json.dumps(json.load(open(sys.argv[2]))), file=sys.stderr)\nsys.exit(1)\n'
    command = stand_in(trainer)(run) + [str(Path(run.run_dir) / runner.CONFIG_FILE)]
    async_to_sync(runner.run_job)(run_id=run.pk, command=command)
    run.refresh_from_db()
    config = json.loads(run.error)
    assert config == {"seed": 1, "policy": "tiny", "adapter": None, "reward_model": "/nowhere/adapter",
                      "prompts": str(Path(run.run_dir) / "prompts.jsonl")}
    lines = [json.loads(line) for line in open(config["prompts"])]
    assert lines == [{"id": p.id, "prompt": p.text} for p in prompts if p.split == "held_out"]
    assert runner.prepare(run)[-5:] == ["evaluate", "--config", str(Path(run.run_dir) / runner.CONFIG_FILE),
                                        "--out", run.run_dir]


def test_a_generate_run_queues_the_loop_step_and_registers_nothing(make_run, policy, stand_in):
    run = make_run(kind=Run.Kind.GENERATE, policy=policy)
    trainer = SUCCEEDING_TRAINER.replace('"eval_accuracy": 0.75', '"output": str(out / "completions.jsonl")')
    assert async_to_sync(runner.run_job)(run_id=run.pk, command=stand_in(trainer)(run)) == "succeeded"
    run.refresh_from_db()
    assert loop_steps_queued() == [run.pk]  # the step records its completions
    assert (run.produced_policy, run.produced_reward_model) == (None, None)
    assert run.summary["output"].endswith("completions.jsonl")
