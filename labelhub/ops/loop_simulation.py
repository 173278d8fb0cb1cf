"""``manage.py simulate``: the whole loop, round after round, with simulated labelers.

A fresh campaign (the tiny models' prompts, split into train and held-out) and a base policy;
then, each round, through the real services, queue, API and job runner (trainer subprocesses):

1. the current version samples K answers for every train prompt (a ``generate`` run);
2. they become rank tasks, which simulated labelers judge through the labeling API by a
   hidden preference with noise;
3. a snapshot of every train-prompt judgment so far;
4. the method: ``ppo`` (a reward model on the snapshot, then PPO with adaptive KL from the
   base: the reward model gets better each round from judgments of the latest version's
   answers, and the new version's KL to the base is what its run's controller held) or
   ``dpo`` (DPO continuing the current version on the snapshot, with the base as its
   reference: iterated, one KL-to-the-base objective over every judgment so far);
5. the new version samples the held-out prompts, is sent to labeling (loop round), and the
   simulated labelers judge it against the earlier versions: the leaderboard;
6. an ``evaluate`` run measures its KL to the root base on the held-out prompts.

Each round gives one row: the win rate against the base on held-out prompts judged by the
hidden preference itself (each held-out sample of the version against one of the base, ≥ 200
comparisons, ties count half, with a Wilson 95% interval), the Bradley–Terry strength from the
simulated labelers' judgments, the reward model's held-out accuracy, KL to the base, and the
guards: mean length in words, distinct-2, share of words in the base's vocabulary.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import slugify
from procrastinate.contrib.django import app

from labelhub.campaigns import services as campaign_services
from labelhub.campaigns.models import Campaign, Policy, Prompt, Role
from labelhub.feedback import services as feedback
from labelhub.feedback.leaderboard import leaderboard
from labelhub.labeling import services as labeling
from labelhub.ops import preferences
from labelhub.ops.simulate import api_client_factory, simulate
from labelhub.training import loop
from labelhub.training import services as training
from labelhub.training.models import Run

FIXTURE_PROMPTS = [Path(settings.BASE_DIR) / "fixtures" / "tiny" / name for name in ("qa.jsonl", "instructions.jsonl")]
WORD_PATTERN = preferences.WORD

#: Per method: the runs of one round (trainer config fields; the platform fills in the inputs).
#: Chosen by measuring the spread over seeds (docs/loop.md), not for one preference.
METHODS: dict[str, dict[str, dict[str, Any]]] = {
    "ppo": {
        "reward": {"max_steps": 240, "batch_size": 16, "learning_rate": 3e-3, "eval_fraction": 0.1, "log_every": 10},
        "ppo": {
            "steps": 60, "batch_size": 16, "minibatch_size": 8, "ppo_epochs": 2, "learning_rate": 4e-3,
            "lr_schedule": "linear", "kl_coef": 0.2, "kl_target": 8.0, "kl_horizon": 64,
            "max_new_tokens": 48, "score_norm": "running", "save_every": 0,
        },
    },
    "dpo": {
        "dpo": {"max_steps": 100, "batch_size": 16, "learning_rate": 1e-3, "beta": 0.1, "log_every": 10, "reference": "base"},
    },
}


def training_threads() -> int:
    """The simulation waits while a trainer runs, so a training run may use every core — unless
    ``LABELHUB_TRAINER_THREADS`` says how many (the test suite's workers share the cores, and
    two trainers with a thread per core each were several times slower than with one)."""
    import os

    if settings.LABELHUB_TRAINER_THREADS:
        return int(settings.LABELHUB_TRAINER_THREADS)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@dataclass
class SimulationConfig:
    method: str = "dpo"
    rounds: int = 1
    seed: int = 1
    preference: str = "addressed"
    noise: float = 0.1
    labelers: int = 3
    samples: int = 4  # answers per train prompt per round (K of the rank tasks)
    held_out: int = 50  # held-out prompts; each gets `eval_samples` answers per version
    eval_samples: int = 4
    max_new_tokens: int = 48
    reward_steps: int | None = None  # the reward model's steps (ppo); None: the recipe's (METHODS)
    policy_steps: int | None = None  # PPO steps or DPO max_steps; None: the recipe's
    out: str = ""

    def recipe(self) -> dict[str, dict[str, Any]]:
        """The method's runs of one round (METHODS), with the steps the options override."""
        runs = {kind: dict(config) for kind, config in METHODS[self.method].items()}
        if self.reward_steps is not None and "reward" in runs:
            runs["reward"]["max_steps"] = self.reward_steps
        if self.policy_steps is not None and "ppo" in runs:
            runs["ppo"]["steps"] = self.policy_steps
        elif self.policy_steps is not None:
            runs["dpo"]["max_steps"] = self.policy_steps
        return runs

    def errors(self) -> dict[str, str]:
        problems = {}
        if self.method not in METHODS:
            problems["method"] = f"must be one of {', '.join(sorted(METHODS))}"
        for name, low in (("rounds", 1), ("labelers", 1), ("samples", 2), ("held_out", 1), ("eval_samples", 1)):
            if getattr(self, name) < low:
                problems[name] = f"must be at least {low}"
        for name in ("reward_steps", "policy_steps"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                problems[name] = "must be at least 1"
        if self.reward_steps is not None and self.method != "ppo" and "reward_steps" not in problems:
            problems["reward_steps"] = "only --method ppo trains a reward model"
        if not 0 <= self.noise <= 1:
            problems["noise"] = "must be between 0 and 1"
        try:
            preferences.get(self.preference)
        except ValueError as exc:
            problems["preference"] = str(exc)
        return problems


@dataclass
class Row:
    round: int
    version: str
    method: str
    win_rate: float
    win_low: float
    win_high: float
    comparisons: int
    bt_strength: float | None
    bt_low: float | None
    bt_high: float | None
    bt_comparisons: int
    reward_accuracy: float | None
    kl_to_base: float | None  # exact, on the held-out prompts (an evaluate run)
    kl_run: float | None  # what the PPO run's controller held: mean KL of its last 10 steps
    kl_target: float | None
    length_words: float
    distinct_2: float
    in_vocab: float
    true_score: float
    wall_s: float
    guards_ok: bool = True
    guard_notes: list[str] = field(default_factory=list)


@dataclass
class Result:
    config: SimulationConfig
    campaign: str
    base: Row
    ceiling: dict[str, float]
    rounds: list[Row] = field(default_factory=list)
    wall_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "campaign": self.campaign, "base": asdict(self.base),
                "ceiling_best_of_4": self.ceiling, "rounds": [asdict(r) for r in self.rounds], "wall_s": self.wall_s}


# --- statistics ---------------------------------------------------------------------------------


def wilson(wins: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion (ties counted as half a win)."""
    if n == 0:
        return 0.0, 1.0
    p = wins / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    return (centre - spread) / denominator, (centre + spread) / denominator


def win_rate(score: Callable[[str, str], float], pairs: list[tuple[str, str, str]]) -> tuple[float, int]:
    """(wins + ties / 2, comparisons) of the first answer over the second, for (prompt, a, b)."""
    wins = 0.0
    for prompt, a, b in pairs:
        sa, sb = score(prompt, a), score(prompt, b)
        wins += 1.0 if sa > sb else 0.5 if sa == sb else 0.0
    return wins, len(pairs)


def text_words(text: str) -> list[str]:
    return [w.lower() for w in WORD_PATTERN.findall(text)]


def distinct_2(texts: list[str]) -> float:
    grams = [tuple(ws[i:i + 2]) for ws in map(text_words, texts) for i in range(len(ws) - 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def guard_figures(texts: list[str], vocabulary: set[str]) -> dict[str, float]:
    all_words = [w for t in texts for w in text_words(t)]
    return {
        "length_words": sum(len(text_words(t)) for t in texts) / max(1, len(texts)),
        "distinct_2": distinct_2(texts),
        "in_vocab": sum(w in vocabulary for w in all_words) / len(all_words) if all_words else 0.0,
    }


# --- the campaign -------------------------------------------------------------------------------


def fixture_prompts() -> list[str]:
    texts = []
    for path in FIXTURE_PROMPTS:
        texts += [json.loads(line)["prompt"] for line in path.read_text("utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(texts))


def split_prompts(texts: list[str], held_out: int) -> dict[str, str]:
    """text → split: the ``held_out`` prompts first in content-hash order are held out (stable
    across seeds and machines, independent of file order)."""
    if held_out >= len(texts):
        raise ValueError(f"--held-out {held_out} leaves no train prompts (there are {len(texts)})")
    ranked = sorted(texts, key=lambda t: hashlib.sha256(t.encode()).hexdigest())
    held = set(ranked[:held_out])
    return {t: Prompt.Split.HELD_OUT if t in held else Prompt.Split.TRAIN for t in texts}


def simulation_campaign(cfg: SimulationConfig, prompts: list[str]) -> tuple[Campaign, Policy, Any]:
    User = get_user_model()
    lead, created = User.objects.get_or_create(username="sim-lead")
    if created:
        lead.set_unusable_password()
        lead.save(update_fields=["password"])
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    slug = slugify(f"sim-{cfg.method}-s{cfg.seed}-{stamp}")[:50]
    campaign = campaign_services.campaign_create(
        user=lead, name=f"Simulated loop: {cfg.method}, seed {cfg.seed}, {cfg.preference}"[:200], slug=slug,
        task_kind=Campaign.TaskKind.RANK, completions_per_task=cfg.samples, overlap=cfg.labelers,
        status=Campaign.Status.ACTIVE, loop_auto=False,
        guidelines=f"Simulated labelers judge by the hidden preference `{cfg.preference}`.",
    )
    campaign_services.membership_add(campaign=campaign, user=lead, role=Role.LEAD)
    splits = split_prompts(prompts, cfg.held_out)
    data = "".join(json.dumps({"prompt": t, "split": s}) + "\n" for t, s in splits.items()).encode()
    campaign_services.prompts_import(campaign=campaign, user=lead, filename="prompts.jsonl", data=data)
    base = Policy.objects.create(campaign=campaign, name="tiny-base", base_model="tiny",
                                 generation_settings={"temperature": 1.0, "max_new_tokens": cfg.max_new_tokens})
    return campaign, base, lead


# --- jobs ----------------------------------------------------------------------------------------


def run_jobs(queues: tuple[str, ...] = ("training", "loop")) -> None:
    """Work through the queues as ``manage.py procrastinate worker`` would, until nothing is due:
    each queued run's job starts the trainer subprocess and records the outcome, and the loop
    step a run's end queues (``training.loop_step``, queue ``loop``) then records a generate
    run's completions and moves the loop rounds on. A failed step waits for its retry; its run's
    ``error`` says so, which :func:`finished` reports."""

    async def work(worker_app):
        async with worker_app.open_async():
            await worker_app.run_worker_async(queues=list(queues), wait=False, install_signal_handlers=False)

    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
        asyncio.run(work(worker_app))


def finished(run: Run) -> Run:
    run.refresh_from_db()
    if run.state != Run.State.SUCCEEDED or run.error:  # an error on a succeeded run: its loop step failed
        raise SimulationFailed(f"{run.kind} run {run.pk} {run.state}: {run.error or run.error_tail[-500:]}")
    return run


class SimulationFailed(Exception):
    pass


def completions_of(run: Run) -> dict[int, list[str]]:
    """prompt id → every sampled answer of a finished generate run, in order (duplicates kept:
    the platform stores each distinct text once, an evaluation must count every sample)."""
    out: dict[int, list[str]] = {}
    with open(run.summary.get("output") or Path(run.run_dir) / "completions.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                item = json.loads(line)
                out.setdefault(int(item["id"]), []).append(item["completion"])
    return out


def held_kl(run: Run, last: int = 10) -> float | None:
    """The KL an adaptive-KL run held: the mean of its last ``last`` steps' KL per response
    (what the controller steers; one step's figure is a noisy batch of 16)."""
    values = [m.values["objective/kl"] for m in run.metrics.order_by("-step")[:last] if "objective/kl" in m.values]
    return sum(values) / len(values) if values else None


# --- the simulation --------------------------------------------------------------------------------


class Simulation:
    def __init__(self, cfg: SimulationConfig, progress: Callable[[str], None] = lambda message: None):
        self.cfg, self.progress = cfg, progress
        self.score = preferences.get(cfg.preference)
        self.client_for = api_client_factory()
        self.started = time.monotonic()

    def say(self, message: str) -> None:
        self.progress(f"[{time.monotonic() - self.started:6.0f}s] {message}")

    def run(self) -> Result:
        cfg = self.cfg
        self.campaign, self.base, self.lead = simulation_campaign(cfg, fixture_prompts())
        self.prompt_text = dict(Prompt.objects.filter(campaign=self.campaign).values_list("id", "text"))
        self.say(f"campaign {self.campaign.slug}: {len(self.prompt_text)} prompts, {cfg.held_out} held out; "
                 f"method {cfg.method}, preference {cfg.preference}, noise {cfg.noise}, {cfg.labelers} labelers")
        t0 = time.monotonic()
        self.say("base: sampling the held-out prompts")
        base_eval = self.generate(self.base, Prompt.Split.HELD_OUT, 2 * cfg.eval_samples, seed=10_000 + cfg.seed)
        answers = completions_of(base_eval)
        self.base_answers = {pid: texts[: cfg.eval_samples] for pid, texts in answers.items()}
        pool = {pid: texts[cfg.eval_samples:] for pid, texts in answers.items()}
        # The base's vocabulary: the prompts' words and those of a second set of the base's answers,
        # so the base's own share (on the compared answers) is measured like every version's.
        self.vocabulary = {w for t in self.prompt_text.values() for w in text_words(t)}
        self.vocabulary |= {w for texts in pool.values() for t in texts for w in text_words(t)}
        result = Result(cfg, self.campaign.slug, self.base_row(time.monotonic() - t0), self.ceiling(pool))
        self.say(f"base: true score {result.base.true_score:.3f}, {result.base.length_words:.1f} words; "
                 f"best-of-{cfg.eval_samples} ceiling wins {result.ceiling['win_rate']:.1%} against the base")

        current = self.base
        for number in range(1, cfg.rounds + 1):
            t0 = time.monotonic()
            current, row = self.round(number, current)
            row.wall_s = round(time.monotonic() - t0, 1)
            result.rounds.append(row)
            self.say(f"round {number}: {row.version} wins {row.win_rate:.1%} "
                     f"[{row.win_low:.1%}, {row.win_high:.1%}] of {row.comparisons} against the base ({row.wall_s:.0f}s)")
        result.wall_s = round(time.monotonic() - self.started, 1)
        return result

    # -- steps --

    def generate(self, policy: Policy, split: str, samples: int, seed: int) -> Run:
        run = training.run_create(
            campaign=self.campaign, user=self.lead, kind=Run.Kind.GENERATE, policy=policy, prompt_split=split,
            config={"num_samples": samples, "max_new_tokens": self.cfg.max_new_tokens, "seed": seed},
        )
        run_jobs()
        return finished(run)

    def label(self, what: str, seed: int) -> int:
        result = simulate(campaign=self.campaign, client_for=self.client_for, labelers=self.cfg.labelers,
                          preference=self.cfg.preference, noise=self.cfg.noise, seed=seed)
        if result.errors:
            raise SimulationFailed(f"labeling {what}: requests failed {result.errors}")
        return result.judgments

    def round(self, number: int, current: Policy) -> tuple[Policy, Row]:
        cfg, seed = self.cfg, self.cfg.seed * 100 + number
        self.say(f"round {number}: {current.name} samples {cfg.samples} answers per train prompt")
        self.generate(current, Prompt.Split.TRAIN, cfg.samples, seed=seed)
        tasks = labeling.tasks_create(campaign=self.campaign, policy_ids=[current.pk], split=Prompt.Split.TRAIN, seed=seed).made
        judgments = self.label("train tasks", seed)
        self.say(f"round {number}: {judgments} judgments on {tasks} tasks; writing a snapshot of the train prompts")
        snapshot = feedback.snapshot_create(campaign=self.campaign, user=self.lead, filters={"split": Prompt.Split.TRAIN})
        snapshot = feedback.snapshot_build(snapshot_id=snapshot.pk)

        recipe, reward_accuracy = cfg.recipe(), None
        if cfg.method == "ppo":
            self.say(f"round {number}: reward model on {snapshot.row_count} pairs")
            reward = training.run_create(campaign=self.campaign, user=self.lead, kind=Run.Kind.REWARD,
                                         snapshot=snapshot, config=recipe["reward"] | {"seed": seed, "threads": training_threads()})
            run_jobs()
            reward = finished(reward)
            reward_accuracy = reward.summary.get("eval_accuracy")
            self.say(f"round {number}: reward model held-out accuracy {reward_accuracy:.3f}; PPO from {self.base.name}")
            # From the base each round: the reward model improves with every round's on-policy
            # judgments, and the version's KL to the base stays what its run's controller held.
            policy_run = training.run_create(campaign=self.campaign, user=self.lead, kind=Run.Kind.PPO, policy=self.base,
                                             reward_model=reward.produced_reward_model, config=recipe["ppo"] | {"seed": seed, "threads": training_threads()})
        else:
            self.say(f"round {number}: DPO from {current.name} on {snapshot.row_count} pairs")
            policy_run = training.run_create(campaign=self.campaign, user=self.lead, kind=Run.Kind.DPO, policy=current,
                                             snapshot=snapshot, config=recipe["dpo"] | {"seed": seed, "threads": training_threads()})
        run_jobs()
        policy_run = finished(policy_run)
        if cfg.method == "dpo":
            reward_accuracy = policy_run.summary.get("eval_reward_accuracy")
        new = policy_run.produced_policy

        self.say(f"round {number}: {new.name} samples the held-out prompts; KL to the base")
        answers = completions_of(self.generate(new, Prompt.Split.HELD_OUT, cfg.eval_samples, seed=10_000 + cfg.seed))
        evaluation = training.run_create(
            campaign=self.campaign, user=self.lead, kind=Run.Kind.EVALUATE, policy=new, prompt_split=Prompt.Split.HELD_OUT,
            config={"reference": self.base.base_model, "max_new_tokens": cfg.max_new_tokens, "seed": 10_000 + cfg.seed},
        )
        run_jobs()
        evaluation = finished(evaluation)

        loop.send_to_labeling(policy=new, user=self.lead)  # its tasks against the earlier versions
        comparisons = self.label("version comparisons", seed + 50)
        self.say(f"round {number}: {comparisons} judgments comparing {new.name} with earlier versions")
        board = leaderboard(campaign=self.campaign, reference=self.base, rounds=200, seed=cfg.seed)
        standing = next((s for s in board.standings if s.policy.pk == new.pk), None)

        row = self.row(number, new.name, answers, reward_accuracy=reward_accuracy, evaluation=evaluation,
                       kl_run=held_kl(policy_run),
                       kl_target=(policy_run.config or {}).get("kl_target"), standing=standing)
        return new, row

    # -- figures --

    def pairs_against_base(self, answers: dict[int, list[str]]) -> list[tuple[str, str, str]]:
        return [(self.prompt_text[pid], mine, theirs)
                for pid, texts in sorted(answers.items())
                for mine, theirs in zip(texts, self.base_answers.get(pid, []), strict=False)]

    def row(self, number, version, answers, *, reward_accuracy, evaluation, kl_run, kl_target, standing) -> Row:
        wins, n = win_rate(self.score, self.pairs_against_base(answers))
        low, high = wilson(wins, n)
        texts = [t for pid in sorted(answers) for t in answers[pid]]
        figures = guard_figures(texts, self.vocabulary)
        kl = evaluation.summary.get("kl_per_sequence") if evaluation is not None else None
        row = Row(
            round=number, version=version, method=self.cfg.method if number else "base",
            win_rate=round(wins / n, 4) if n else 0.0, win_low=round(low, 4), win_high=round(high, 4), comparisons=n,
            bt_strength=standing and round(standing.strength, 3), bt_low=standing and round(standing.low, 3),
            bt_high=standing and round(standing.high, 3), bt_comparisons=standing.comparisons if standing else 0,
            reward_accuracy=None if reward_accuracy is None else round(reward_accuracy, 4),
            kl_to_base=None if kl is None else round(kl, 3), kl_run=None if kl_run is None else round(kl_run, 3),
            kl_target=kl_target,
            length_words=round(figures["length_words"], 2), distinct_2=round(figures["distinct_2"], 4),
            in_vocab=round(figures["in_vocab"], 4),
            true_score=round(sum(self.score(self.prompt_text[p], t) for p in answers for t in answers[p]) / max(1, len(texts)), 4),
            wall_s=0.0,
        )
        self.check_guards(row)
        return row

    def base_row(self, wall_s: float) -> Row:
        row = self.row(0, self.base.name, self.base_answers, reward_accuracy=None, evaluation=None, kl_run=None, kl_target=None,
                       standing=None)
        row.wall_s = round(wall_s, 1)
        self.base_figures = row
        return row

    def check_guards(self, row: Row) -> None:
        """The guards of issue 11: length ≥ 5 words, ≥ 90% of words in the base's vocabulary,
        distinct-2 at least half the base's, KL within the run's target where it has one.

        The vocabulary guard is relative: the tiny base itself samples many one-off non-words, so
        only ~80% of its own fresh answers' words are in a vocabulary of 200 other answers of its;
        a version must keep at least 90% of the base's own share."""
        if row.round == 0:
            return
        base = self.base_figures
        notes = []
        if row.length_words < 5:
            notes.append(f"mean length {row.length_words:.1f} words < 5")
        if row.in_vocab < 0.9 * base.in_vocab:
            notes.append(f"{row.in_vocab:.1%} of words in the base's vocabulary < 90% of the base's own {base.in_vocab:.1%}")
        if row.distinct_2 < base.distinct_2 / 2:
            notes.append(f"distinct-2 {row.distinct_2:.3f} < half the base's {base.distinct_2:.3f}")
        if row.kl_target is not None and row.kl_run is not None and row.kl_run > row.kl_target:
            notes.append(f"KL {row.kl_run:.2f} > the run's target {row.kl_target}")
        row.guards_ok, row.guard_notes = not notes, notes

    def ceiling(self, pool: dict[int, list[str]]) -> dict[str, float]:
        """Best-of-k by the hidden preference on a second set of the base's samples, against the
        base: what picking the best of k answers, with perfect judgment, would win."""
        best = {pid: [max(texts, key=lambda t, p=pid: self.score(self.prompt_text[p], t))] * self.cfg.eval_samples
                for pid, texts in pool.items() if texts}
        wins, n = win_rate(self.score, self.pairs_against_base(best))
        low, high = wilson(wins, n)
        return {"k": self.cfg.eval_samples, "win_rate": round(wins / n, 4), "win_low": round(low, 4),
                "win_high": round(high, 4), "comparisons": n}


# --- output --------------------------------------------------------------------------------------

COLUMNS = [
    ("round", "round", "{}"), ("version", "version", "{}"), ("method", "method", "{}"),
    ("win vs base [95% CI]", None, None), ("BT strength [95% CI]", None, None),
    ("reward-model acc", "reward_accuracy", "{:.3f}"), ("KL to base (held-out)", "kl_to_base", "{:.2f}"),
    ("KL (run) / target", None, None),
    ("words", "length_words", "{:.1f}"), ("distinct-2", "distinct_2", "{:.3f}"), ("in-vocab", "in_vocab", "{:.1%}"),
    ("true score", "true_score", "{:.3f}"), ("guards", None, None), ("wall s", "wall_s", "{:.0f}"),
]


def cells(row: Row) -> list[str]:
    out = []
    for title, key, fmt in COLUMNS:
        if title.startswith("win"):
            out.append(f"{row.win_rate:.1%} [{row.win_low:.1%}, {row.win_high:.1%}] n={row.comparisons}"
                       if row.round else "—")
        elif title.startswith("BT"):
            out.append("—" if row.bt_strength is None else
                       f"{row.bt_strength:+.2f} [{row.bt_low:+.2f}, {row.bt_high:+.2f}] n={row.bt_comparisons}")
        elif title.startswith("KL (run)"):
            out.append("—" if row.kl_run is None else f"{row.kl_run:.2f}" + (f" / {row.kl_target:g}" if row.kl_target else ""))
        elif title == "guards":
            out.append("—" if row.round == 0 else "ok" if row.guards_ok else "FAILED: " + "; ".join(row.guard_notes))
        else:
            value = getattr(row, key)
            out.append("—" if value is None else fmt.format(value))
    return out


def markdown(result: Result) -> str:
    cfg = result.config
    lines = [
        f"# Simulated loop: {cfg.method}, seed {cfg.seed}",
        "",
        f"Campaign `{result.campaign}`; preference `{cfg.preference}`, noise {cfg.noise}, {cfg.labelers} labelers, "
        f"{cfg.samples} answers per train prompt per round, {cfg.held_out} held-out prompts × {cfg.eval_samples} answers.",
        f"Ceiling: best-of-{result.ceiling['k']} of the base's answers by the hidden preference wins "
        f"{result.ceiling['win_rate']:.1%} [{result.ceiling['win_low']:.1%}, {result.ceiling['win_high']:.1%}] against the base.",
        "",
        "| " + " | ".join(title for title, _, _ in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in [result.base, *result.rounds]:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells(row)) + " |")
    lines += ["", f"Wall time {result.wall_s:.0f} s."]
    return "\n".join(lines) + "\n"


def write_outputs(result: Result, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "results.json", out / "results.md"
    json_path.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(result), encoding="utf-8")
    return json_path, md_path
