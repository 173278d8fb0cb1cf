from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from labelhub.ops.demo import ADMIN, DEMO_USERS, demo_load


class Command(BaseCommand):
    help = "Load the demo users and the demo campaign (idempotent). Refused with DEBUG off unless --force."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true",
            help="Load even with DEBUG off. The demo users, a site admin among them, have passwords printed here "
                 "and in the README: never on a server others can reach.",
        )

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this looks like a production database: the demo creates users with known "
                "passwords, a site admin among them. Run it with DEBUG=1, or add --force if you mean it."
            )
        result = demo_load()
        self.stdout.write(
            f"Demo campaign '{result.campaign.name}': {result.campaign.prompts.count()} prompts "
            f"(+{result.prompts_created} now, +{result.completions_created} completions, "
            f"+{result.tasks_created} tasks); "
            f"{result.users_created} users created."
        )
        self.stdout.write("Demo users (username / password / role):")
        for demo in [*DEMO_USERS, ADMIN]:
            self.stdout.write(f"  {demo.username:<10} {demo.password:<20} {demo.role or 'site admin'}")
