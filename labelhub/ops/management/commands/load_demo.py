from django.core.management.base import BaseCommand

from labelhub.ops.demo import ADMIN, DEMO_USERS, demo_load


class Command(BaseCommand):
    help = "Load the demo users and the demo campaign (idempotent)."

    def handle(self, *args, **options):
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
