"""A snapshot downloads from its page and the API as data.jsonl or as its whole folder in a
zip (the dataset folder a trainer or `datasets` reads), streamed, to content readers only."""

import io
import random
import zipfile

import pytest

from labelhub.feedback.models import Snapshot
from tests.config.test_asgi_app import _streamed

pytestmark = pytest.mark.django_db

ARCHIVE = "/api/campaigns/helpful/snapshots/{}/archive/"


@pytest.fixture
def snapshot(campaign, lead, tmp_path):
    folder = tmp_path / "v1"
    (folder / "dataset").mkdir(parents=True)
    (folder / "data.jsonl").write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n')
    (folder / "dataset" / "dataset_info.json").write_text("{}")
    return Snapshot.objects.create(campaign=campaign, version=1, state=Snapshot.State.READY, path=str(folder),
                                   created_by=lead)


def unzipped(response) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(b"".join(response))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("role, expected", [
    ("lead", 200), ("engineer", 200), ("reviewer", 200), ("labeler", 403), ("outsider", 404), (None, 401)])
def test_it_zips_a_snapshots_folder_for_content_readers(users_by_role, api_as, snapshot, role, expected):
    response = api_as(users_by_role.get(role)).get(ARCHIVE.format(snapshot.pk))
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Disposition"] == 'attachment; filename="helpful-v1-preference.zip"'
        assert unzipped(response) == {"data.jsonl": b'{"prompt": "p", "chosen": "a", "rejected": "b"}\n',
                                      "dataset/dataset_info.json": b"{}"}


def test_it_refuses_a_snapshot_still_building(api_as, lead, snapshot):
    Snapshot.objects.filter(pk=snapshot.pk).update(state=Snapshot.State.BUILDING)
    response = api_as(lead).get(ARCHIVE.format(snapshot.pk))
    assert response.status_code == 409 and "building" in response.json()["detail"]


def test_a_snapshot_whose_folder_is_gone_is_a_404(api_as, lead, snapshot):
    import shutil

    shutil.rmtree(snapshot.path)
    response = api_as(lead).get(ARCHIVE.format(snapshot.pk))
    assert response.status_code == 404 and "no longer on the server" in response.json()["detail"]


def test_the_snapshots_page_links_both_downloads(client, reviewer, snapshot):
    client.force_login(reviewer)
    html = client.get("/campaigns/helpful/snapshots/").content.decode()
    assert f'href="/api/campaigns/helpful/snapshots/{snapshot.pk}/download/"' in html
    assert f'href="{ARCHIVE.format(snapshot.pk)}"' in html


@pytest.fixture
def big_snapshot(campaign, lead, tmp_path):
    """~1 MiB of incompressible data (the token made here, not in the async test)."""
    from labelhub.accounts.services import token_get_or_create

    folder = tmp_path / "big"
    folder.mkdir()
    data = random.Random(0).randbytes(1 << 20)
    (folder / "blob.bin").write_bytes(data)
    snapshot = Snapshot.objects.create(campaign=campaign, version=1, state=Snapshot.State.READY, path=str(folder))
    return ARCHIVE.format(snapshot.pk), token_get_or_create(user=lead).key, data


@pytest.fixture(autouse=True)
def _end_stray_connections(request):
    """The async test reaches the database from asgiref's thread (see tests/training/conftest.py)."""
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("end_stray_connections")


@pytest.mark.django_db(transaction=True)
async def test_it_streams_the_zip_in_chunks_under_asgi(big_snapshot):
    path, token, data = big_snapshot
    start, parts, warned = await _streamed(path, [(b"authorization", f"Token {token}".encode())])
    assert start["status"] == 200
    assert len(parts) > 10  # written while sent, not assembled first
    with zipfile.ZipFile(io.BytesIO(b"".join(parts))) as archive:
        assert archive.read("blob.bin") == data
    assert not [w for w in warned if "iterators" in w]
