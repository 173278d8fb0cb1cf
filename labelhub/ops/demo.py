"""Demo data: users for each role and a demo campaign loaded through the real import service.

Idempotent: running it again creates nothing new and leaves passwords as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from labelhub.campaigns import services as campaign_services
from labelhub.campaigns.models import Campaign, Policy, Role
from labelhub.labeling import services as labeling_services

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str


DEMO_USERS = [
    DemoUser("lead", "labelhub-lead", Role.LEAD),
    DemoUser("engineer", "labelhub-engineer", Role.ENGINEER),
    DemoUser("reviewer", "labelhub-reviewer", Role.REVIEWER),
    DemoUser("labeler1", "labelhub-labeler1", Role.LABELER),
    DemoUser("labeler2", "labelhub-labeler2", Role.LABELER),
    DemoUser("labeler3", "labelhub-labeler3", Role.LABELER),
]
ADMIN = DemoUser("admin", "labelhub-admin", "")


@dataclass
class DemoResult:
    campaign: Campaign
    users_created: int
    prompts_created: int
    completions_created: int
    tasks_created: int


@transaction.atomic
def demo_load() -> DemoResult:
    User = get_user_model()
    users, created = {}, 0
    for demo in [*DEMO_USERS, ADMIN]:
        user, was_created = User.objects.get_or_create(username=demo.username)
        if was_created:
            user.set_password(demo.password)
            user.is_staff = user.is_superuser = demo is ADMIN
            user.save()
            created += 1
        users[demo.username] = user

    spec = json.loads((DEMO_DIR / "campaign.json").read_text())
    campaign = Campaign.objects.filter(slug=spec["slug"]).first()
    if campaign is None:
        campaign = campaign_services.campaign_create(
            user=users["lead"], status=Campaign.Status.ACTIVE, **spec
        )
    for demo in DEMO_USERS:
        campaign_services.membership_add(campaign=campaign, user=users[demo.username], role=demo.role)
    # the tiny offline model, built on first use: the policy the loop starts from
    Policy.objects.get_or_create(campaign=campaign, name="tiny-base", defaults={
        "base_model": "tiny", "generation_settings": {"temperature": 1.0, "max_new_tokens": 40},
    })

    prompts = completions = 0
    if not campaign.prompts.exists():
        path = DEMO_DIR / "prompts.jsonl"
        result = campaign_services.prompts_import(
            campaign=campaign, user=users["lead"], filename=path.name, data=path.read_bytes()
        ).as_dict()
        prompts, completions = result["prompts_created"], result["completions_created"]
    tasks = labeling_services.tasks_create(campaign=campaign).made if not campaign.tasks.exists() else 0
    return DemoResult(campaign, created, prompts, completions, tasks)
