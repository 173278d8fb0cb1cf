"""A run's artifacts download from the API and the Run page: one file as it is, a folder of
it or the whole run folder as a zip, streamed; only inside the run folder; run readers only."""

import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from labelhub.training.models import Run
from tests.api_errors import error_fields, error_messages
from tests.training.conftest import READ

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(make_run):
    run = make_run(state=Run.State.SUCCEEDED)
    folder = Path(run.run_dir)
    (folder / "adapter").mkdir(parents=True)
    (folder / "adapter" / "adapter_model.safetensors").write_bytes(bytes(range(256)) * 600)
    (folder / "adapter" / "adapter_config.json").write_text('{"r": 8}')
    (folder / "metrics.jsonl").write_text(json.dumps({"step": 1, "loss": 0.5}) + "\n")
    (folder / "samples.jsonl").write_text('{"text": "hello"}\n')
    return run


def url(run, path=None):
    return f"/api/campaigns/helpful/runs/{run.pk}/download/" + (f"?path={path}" if path is not None else "")


def body(response) -> bytes:
    return b"".join(response)  # an async iterator: Django reads it whole under the sync client


def unzipped(response) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body(response))) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("role, expected", READ)
def test_it_lets_run_readers_download_a_runs_folder(client_as, finished, role, expected):
    response = client_as(role).get(url(finished))
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == "application/zip"
        assert response["Content-Disposition"] == f'attachment; filename="helpful-run{finished.pk}.zip"'
        files = unzipped(response)
        assert sorted(files) == ["adapter/adapter_config.json", "adapter/adapter_model.safetensors",
                                 "metrics.jsonl", "samples.jsonl"]
        assert files["adapter/adapter_model.safetensors"] == bytes(range(256)) * 600


def test_it_sends_one_file_as_it_is(client_as, finished):
    response = client_as("engineer").get(url(finished, "metrics.jsonl"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="metrics.jsonl"'
    assert json.loads(body(response)) == {"step": 1, "loss": 0.5}


def test_it_zips_a_folder_of_the_run(client_as, finished):
    response = client_as("reviewer").get(url(finished, "adapter"))
    assert response["Content-Disposition"] == f'attachment; filename="helpful-run{finished.pk}-adapter.zip"'
    assert sorted(unzipped(response)) == ["adapter_config.json", "adapter_model.safetensors"]


@pytest.mark.parametrize("path, message", [
    ("../../secret.txt", "outside the run folder"), ("/etc/passwd", "no file or folder"),
    ("nothing-here.bin", "no file or folder"), ("adapter/../../..", "outside the run folder")])
def test_it_refuses_paths_outside_the_run_folder_naming_the_field(client_as, finished, data_dir, path, message):
    Path(data_dir, "secret.txt").write_text("not yours")
    response = client_as("lead").get(url(finished, path))
    assert response.status_code == 400
    assert error_fields(response) == {"path"}
    assert message in error_messages(response, "path")[0]


def test_it_leaves_out_links_that_lead_out_of_the_folder(client_as, finished, data_dir):
    Path(data_dir, "secret.txt").write_text("not yours")
    os.symlink(Path(data_dir, "secret.txt"), Path(finished.run_dir, "escape.txt"))
    assert client_as("lead").get(url(finished, "escape.txt")).status_code == 400
    assert "escape.txt" not in unzipped(client_as("lead").get(url(finished)))


def test_a_run_without_a_folder_is_a_404(client_as, make_run):
    response = client_as("lead").get(url(make_run()))
    assert response.status_code == 404
    assert "no folder" in response.json()["detail"]


def test_the_run_page_links_every_file_and_the_folders(client, users_by_role, finished):
    client.force_login(users_by_role["reviewer"])
    html = client.get(f"/campaigns/helpful/runs/{finished.pk}/").content.decode()
    assert f'href="{url(finished)}"' in html
    assert f'href="{url(finished, "adapter")}"' in html
    assert f'href="{url(finished, "adapter/adapter_model.safetensors")}"' in html
    assert f'href="{url(finished, "metrics.jsonl")}"' in html
