"""Score a campaign's completions with one of its reward models, for the disagreement queue
(docs/quality.md, "Disagreement"): the completions go to ``python -m trainer score`` as a
JSONL file of ``{"prompt", "completion"}`` — the prompt as snapshots write it, so the model
reads what it was trained on — and the scores come back from the run folder's
``scores.jsonl`` (one per input line, by ``index``), recorded under the reward model's name.

Run from the command line (``manage.py score_completions``); the trainer is a subprocess, as
for every run, and dies with this process.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings

from labelhub.campaigns.models import Completion
from labelhub.core.processes import dies_with_this_process
from labelhub.feedback import services as feedback_services
from labelhub.training.models import RewardModel
from labelhub.training.runner import trainer_command, trainer_env

logger = logging.getLogger(__name__)


class ScoringFailed(Exception):
    """The trainer did not produce scores; the message holds the end of its output."""


def completions_score(*, reward_model: RewardModel, device: str = "cpu", batch_size: int = 32) -> int:
    """Score every completion of the reward model's campaign and record the scores (scorer:
    the reward model's name, replacing its earlier scores). Returns how many were scored."""
    campaign = reward_model.campaign
    completions = list(Completion.objects.filter(prompt__campaign=campaign).select_related("prompt").order_by("id"))
    if not completions:
        return 0
    Path(settings.LABELHUB_DATA_DIR).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="scores-", dir=settings.LABELHUB_DATA_DIR) as tmp:
        data, out = Path(tmp) / "completions.jsonl", Path(tmp) / "run"
        with open(data, "w", encoding="utf-8") as fh:
            for c in completions:
                fh.write(json.dumps({"prompt": feedback_services.prompt_as_text(c.prompt), "completion": c.text},
                                    ensure_ascii=False) + "\n")
        command = [*trainer_command(), "score", "--model", reward_model.trainer_spec, "--data", str(data),
                   "--out", str(out), "--device", device, "--batch_size", str(batch_size), "--progress", "off"]
        done = subprocess.run(command, env=trainer_env(), capture_output=True, text=True,
                              preexec_fn=dies_with_this_process(), check=False)
        scores_file = out / "scores.jsonl"
        if done.returncode != 0 or not scores_file.is_file():
            logger.error("scoring with %s failed: %s", reward_model.name, done.stderr[-2000:])
            raise ScoringFailed(f"trainer score exited with {done.returncode}: {done.stderr[-2000:]}")
        rows = [json.loads(line) for line in scores_file.read_text("utf-8").splitlines() if line.strip()]
    scores = [(completions[row["index"]].pk, float(row["score"])) for row in rows]
    if len(scores) != len(completions):
        raise ScoringFailed(f"the trainer scored {len(scores)} of {len(completions)} completions")
    return feedback_services.completion_scores_record(campaign=campaign, scorer=reward_model.name, scores=scores)
