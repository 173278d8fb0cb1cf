"""A real HTTP receiver on 127.0.0.1 (http.server in a thread) that records what it was sent
and answers with the status codes a test gives it; the role helpers of the webhook tests."""

import http.server
import threading
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from labelhub.ops.loop_simulation import run_jobs
from labelhub.webhooks import services

ANON = 401
ROLES = ["lead", "labeler", "reviewer", "engineer", "outsider", "anonymous"]


def role_cases(expected: dict[str, int]):
    assert set(expected) == set(ROLES), f"give a status for every role: {sorted(set(ROLES) - set(expected))}"
    return [(role, expected[role]) for role in ROLES]


#: Leads and engineers manage webhooks; labelers and reviewers are refused; non-members see nothing.
def manage_cases(ok):
    return role_cases({"lead": ok, "labeler": 403, "reviewer": 403, "engineer": ok, "outsider": 404, "anonymous": ANON})


@dataclass
class Received:
    headers: dict
    body: bytes
    path: str


@dataclass
class Receiver:
    url: str
    answers: list[int] = field(default_factory=list)  # status codes to answer, in turn; 200 once used up
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver():
    state = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802  (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append(Received(headers={k.lower(): v for k, v in self.headers.items()}, body=body, path=self.path))
            code = state.answers.pop(0) if state.answers else 200
            reply = b"boom" if code >= 500 else b"ok"
            self.send_response(code)
            if 300 <= code < 400:
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/labelhub"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def client_as(users_by_role, api_as):
    return lambda role: api_as(users_by_role.get(role))


@pytest.fixture
def page_as(users_by_role, client):
    def make(role):
        user = users_by_role.get(role)
        if user is not None:
            client.force_login(user)
        return client

    return make


def deliver_jobs() -> list[ProcrastinateJob]:
    """The delivery jobs in the job table, oldest first."""
    return list(ProcrastinateJob.objects.filter(task_name=services.DELIVER_JOB).order_by("id"))


def work() -> None:
    """Run the job worker over the webhooks queue until nothing is due (a real worker)."""
    run_jobs(queues=("webhooks",))


def make_due(job: ProcrastinateJob) -> None:
    """Bring a retried job's time forward instead of waiting out its back-off."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = %s WHERE id = %s", [timezone.now(), job.pk])
