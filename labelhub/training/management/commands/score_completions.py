"""``manage.py score_completions <campaign> [--reward-model NAME]``: score the campaign's
completions with a reward model (default: its newest) for the disagreement queue."""

from django.core.management.base import BaseCommand, CommandError

from labelhub.training.models import RewardModel
from labelhub.training.scoring import ScoringFailed, completions_score


class Command(BaseCommand):
    help = "Score a campaign's completions with one of its reward models (docs/quality.md, Disagreement)."

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="The campaign's slug.")
        parser.add_argument("--reward-model", help="The reward model's name (default: the campaign's newest).")
        parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps or auto (default cpu).")
        parser.add_argument("--batch-size", type=int, default=32)

    def handle(self, *args, campaign, reward_model=None, device="cpu", batch_size=32, **options):
        models = RewardModel.objects.filter(campaign__slug=campaign).select_related("campaign").order_by("-id")
        chosen = models.filter(name=reward_model).first() if reward_model else models.first()
        if chosen is None:
            raise CommandError(f"no reward model {reward_model!r} in campaign {campaign!r}" if reward_model
                               else f"campaign {campaign!r} has no reward model (or does not exist)")
        try:
            n = completions_score(reward_model=chosen, device=device, batch_size=batch_size)
        except ScoringFailed as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{n} completions of {campaign} scored by {chosen.name}.")
