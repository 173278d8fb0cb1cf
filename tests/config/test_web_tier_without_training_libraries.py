"""The web tier and the job worker run without the training libraries (`pip install .` leaves
them out; `[trainer]` adds them): in a fresh process that refuses to import any of them,
Django starts, the ASGI app and the worker's job modules load, a labeler gets the next task
through the API and the labeling page, and a lead's snapshot is written."""

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash
from labelhub.labeling import services as labeling

pytestmark = pytest.mark.django_db(transaction=True)  # the child process reads what the test wrote

TRAINING_LIBRARIES = ("torch", "transformers", "peft", "trl", "datasets", "accelerate", "tokenizers")

CHILD = r"""
import importlib, importlib.abc, json, sys

BLOCKED = set(sys.argv[1].split(","))
attempts = []


class TrainingLibraryBlocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            attempts.append(name)
            raise ImportError(f"the web tier imported {name}")
        return None


sys.meta_path.insert(0, TrainingLibraryBlocker())

import django

django.setup()
from django.conf import settings
from django.test.utils import setup_test_environment

setup_test_environment()
importlib.import_module(settings.ASGI_APPLICATION.rpartition(".")[0])  # the web server's entry point
for module in settings.PROCRASTINATE_IMPORT_PATHS:  # what the job worker loads
    importlib.import_module(module)

from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from labelhub.accounts.services import token_get_or_create
from labelhub.campaigns.models import Campaign
from labelhub.feedback import services

users = get_user_model().objects
labeler = users.get(username="labeler")
api = APIClient()
api.credentials(HTTP_AUTHORIZATION=f"Token {token_get_or_create(user=labeler).key}")
next_task = api.post("/api/labeling/next/?campaign=helpful")
browser = Client()
browser.force_login(labeler)
page = browser.get("/label/work/?campaign=helpful")
snapshot = services.snapshot_create(campaign=Campaign.objects.get(slug="helpful"), user=users.get(username="lead"))
snapshot = services.snapshot_build(snapshot_id=snapshot.pk)

result = {
    "next_task": [next_task.status_code, len(next_task.json()["completions"])],
    "page": [page.status_code, b"app/label.js" in page.content],
    "snapshot": [snapshot.state, snapshot.row_count, snapshot.jsonl_path],
    "attempts": list(attempts),
    "loaded": sorted(name for name in sys.modules if name.partition(".")[0] in BLOCKED),
}
try:
    import datasets  # noqa: F401  (the blocker itself must work, or the test proves nothing)
    result["blocker_works"] = False
except ImportError:
    result["blocker_works"] = True
print(json.dumps(result))
"""


def database_url() -> str:
    """The test database as a DATABASE_URL, for a TCP server or the embedded one's socket."""
    db = connection.settings_dict
    socket = db["HOST"].startswith("/")
    host = "" if socket else db["HOST"]
    port = f":{db['PORT']}" if db["PORT"] else ""
    query = f"?host={quote(db['HOST'], safe='')}" if socket else ""
    return f"postgresql://{quote(db['USER'], safe='')}:{quote(db['PASSWORD'], safe='')}@{host}{port}/{quote(db['NAME'], safe='')}{query}"


@pytest.fixture
def judged_once(campaign, labeler):
    """Two rank tasks (K=3); the labeler has judged the first."""
    policies = [Policy.objects.create(campaign=campaign, name=name) for name in ("a", "b", "c")]
    for i in range(2):
        prompt = Prompt.objects.create(campaign=campaign, text=f"prompt {i}", content_hash=content_hash(f"p{i}"))
        for policy in policies:
            text = f"answer of {policy.name} to {i}"
            Completion.objects.create(prompt=prompt, policy=policy, text=text, content_hash=content_hash(text))
    assert labeling.tasks_create(campaign=campaign).made == 2
    assignment = labeling.next_task(labeler=labeler)
    labeling.judgment_submit(labeler=labeler, assignment_id=assignment.pk,
                             data={"idempotency_key": "first-judgment", "ranking": [[c] for c in assignment.display_order]})
    return campaign


def test_it_serves_and_writes_snapshots_without_importing_a_training_library(judged_once, tmp_path):
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "labelhub.config.settings",
        "DATABASE_URL": database_url(), "LABELHUB_DATA_DIR": str(tmp_path / "data"),
    }
    child = subprocess.run([sys.executable, "-c", CHILD, ",".join(TRAINING_LIBRARIES)], cwd=settings.BASE_DIR,
                           env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr[-4000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["blocker_works"] is True
    assert (result["attempts"], result["loaded"]) == ([], []), child.stderr[-4000:]
    assert result["next_task"] == [200, 3]
    assert result["page"] == [200, True]
    state, rows, jsonl_path = result["snapshot"]
    assert (state, rows) == ("ready", 3)  # one ranking of three: three pairs
    assert len(Path(jsonl_path).read_text(encoding="utf-8").splitlines()) == 3
