"""Simulated labelers: real accounts driving the real labeling API with a hidden preference.

Each labeler loops next → submit until nothing is left (or a budget is spent), ranking the
completions by the preference with some noise: with probability ``noise`` the answer is a
random one. Equal scores become ties. Pairwise tasks get a strength from the score gap.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from labelhub.accounts.services import token_get_or_create
from labelhub.campaigns.models import Campaign, Role
from labelhub.campaigns.services import membership_add
from labelhub.ops import preferences


@dataclass
class SimulationResult:
    judgments: int = 0
    errors: dict[int, int] = field(default_factory=dict)
    labelers: list[str] = field(default_factory=list)


@transaction.atomic
def simulated_accounts(*, campaign: Campaign, count: int, prefix: str = "sim-labeler") -> list:
    User = get_user_model()
    users = []
    for i in range(1, count + 1):
        user, created = User.objects.get_or_create(username=f"{prefix}-{i}")
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        membership_add(campaign=campaign, user=user, role=Role.LABELER)
        users.append(user)
    return users


def lease_prompt_text(lease: dict) -> str:
    """The prompt as text: its text, or a chat's turns one per line."""
    prompt = lease["prompt"]
    if prompt.get("messages"):
        return "\n".join(str(turn.get("content", "")) for turn in prompt["messages"])
    return prompt.get("text") or ""


def answer(lease: dict, score, noise: float, rng: random.Random) -> dict:
    """The body of a submission for a lease payload, judged by ``score(prompt, answer)``."""
    completions = lease["completions"]
    prompt = lease_prompt_text(lease)
    scores = {c["id"]: round(score(prompt, c["text"]), 6) for c in completions}
    if rng.random() < noise:  # a random answer, drawn in the order of the texts (not of the screen)
        scores = {c["id"]: rng.random() for c in sorted(completions, key=lambda c: c["text"])}
    body = {"idempotency_key": uuid.uuid4().hex, "time_spent_ms": rng.randint(2000, 30000)}
    if lease["task"]["kind"] == "pairwise":
        (a, sa), (b, sb) = scores.items()
        gap = abs(sa - sb)
        if gap == 0:
            return body | {"preferred": None, "strength": "tie"}
        strength = "much_better" if gap > 0.5 else "better" if gap > 0.2 else "slightly_better"
        return body | {"preferred": a if sa > sb else b, "strength": strength}
    groups: dict[float, list[int]] = {}
    for cid, s in sorted(scores.items(), key=lambda kv: -kv[1]):
        groups.setdefault(s, []).append(cid)
    body["ranking"] = [sorted(group) for group in groups.values()]
    if lease["task"]["kind"] == "rating":
        axes = lease["campaign"]["rating_axes"]
        body["ratings"] = {str(cid): {a["name"]: a["min"] + round((a["max"] - a["min"]) * min(1.0, max(0.0, s)))
                                      for a in axes} for cid, s in scores.items()}
    return body


def _lease_rng(seed: int, labeler: str, lease: dict) -> random.Random:
    """Noise that depends on what is judged (and by whom), not on ids or the order shown, so a
    simulation repeats on any database."""
    texts = "\x00".join(sorted(c["text"] for c in lease["completions"]))
    digest = hashlib.sha256(f"{seed}:{labeler}:{texts}".encode()).hexdigest()
    return random.Random(digest)


def simulate(*, campaign: Campaign, client_for, labelers: int, preference: str, noise: float = 0.1,
             max_judgments: int | None = None, seed: int = 0) -> SimulationResult:
    """Drive ``labelers`` accounts round-robin through ``client_for(user)`` (an API client)."""
    score = preferences.get(preference)
    users = simulated_accounts(campaign=campaign, count=labelers)
    result = SimulationResult(labelers=[u.username for u in users])
    active = {u.pk: client_for(u) for u in users}
    names = {u.pk: u.username for u in users}
    while active and (max_judgments is None or result.judgments < max_judgments):
        for pk, client in list(active.items()):
            response = client.post(f"/api/labeling/next/?campaign={campaign.slug}")
            if response.status_code == 204:
                del active[pk]
                continue
            if response.status_code != 200:
                result.errors[response.status_code] = result.errors.get(response.status_code, 0) + 1
                del active[pk]
                continue
            lease = response.json()
            submitted = client.post(f"/api/labeling/assignments/{lease['assignment']}/submit/",
                                    answer(lease, score, noise, _lease_rng(seed, names[pk], lease)), format="json")
            if submitted.status_code in (200, 201):
                result.judgments += 1
            else:
                result.errors[submitted.status_code] = result.errors.get(submitted.status_code, 0) + 1
            if max_judgments is not None and result.judgments >= max_judgments:
                break
    return result


def api_client_factory(base_url: str | None = None):
    """In-process DRF client (the real views) or, with ``base_url``, HTTP to a running server."""
    if base_url is None:
        from django.conf import settings
        from rest_framework.test import APIClient

        # a host the settings accept (outside the test runner "testserver" is refused)
        host = next((h for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")), "localhost")

        def make(user):
            client = APIClient(SERVER_NAME=host)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token_get_or_create(user=user).key}")
            return client

        return make
    import httpx

    class HttpClient:
        def __init__(self, token):
            self.http = httpx.Client(base_url=base_url, headers={"Authorization": f"Token {token}"}, timeout=30)

        def post(self, path, data=None, format=None):  # noqa: A002 — mirrors APIClient.post
            return self.http.post(path, json=data)

    return lambda user: HttpClient(token_get_or_create(user=user).key)
