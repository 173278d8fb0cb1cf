from django.core.management.base import BaseCommand, CommandError

from labelhub.campaigns.models import Campaign
from labelhub.ops import preferences
from labelhub.ops.simulate import api_client_factory, simulate


class Command(BaseCommand):
    help = "Drive N simulated labeler accounts through the labeling API with a hidden preference."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", required=True, help="Campaign slug.")
        parser.add_argument("--preference", default="length_band:8-20",
                            help=f"Hidden preference, name[:argument]; one of {sorted(preferences.PREFERENCES)}.")
        parser.add_argument("--labelers", type=int, default=3)
        parser.add_argument("--noise", type=float, default=0.1, help="Probability of a random answer.")
        parser.add_argument("--max-judgments", type=int, default=None)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--url", default=None, help="A running server (default: the API in-process).")

    def handle(self, *args, campaign, preference, labelers, noise, max_judgments, seed, url, **options):
        target = Campaign.objects.filter(slug=campaign).first()
        if target is None:
            raise CommandError(f"No campaign with slug {campaign!r}.")
        try:
            preferences.get(preference)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not 0 <= noise <= 1:
            raise CommandError("--noise must be between 0 and 1.")
        result = simulate(campaign=target, client_for=api_client_factory(url), labelers=labelers,
                          preference=preference, noise=noise, max_judgments=max_judgments, seed=seed)
        self.stdout.write(f"{result.judgments} judgments by {', '.join(result.labelers)}; errors: {result.errors or 'none'}")
        if result.errors:
            raise CommandError(f"Some requests failed: {result.errors}")
