"""Prompts from a Hugging Face dataset: a parquet file, an Arrow file, or a save_to_disk folder
in a zip — each row checked as a JSONL line, all or nothing, with a preview of the first rows."""

import io
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelhub.campaigns.models import Prompt
from tests.api_errors import error_fields
from tests.campaigns.conftest import ANON, role_cases, written

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/imports/"
ROWS = [
    {"prompt": "Explain recursion", "split": "train", "metadata": {"topic": "cs"},
     "completions": [{"text": "It calls itself.", "policy": "base-v1"}]},
    {"prompt": "Name a prime", "split": "held_out", "metadata": {"topic": "maths"},
     "completions": [{"text": "Seven.", "policy": "base-v1"}]},
]


def parquet(rows) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), out)
    return out.getvalue()


def arrow_stream(rows) -> bytes:
    table = pa.Table.from_pylist(rows)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def zipped(folder: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder.parent).as_posix())
    return out.getvalue()


def post(client_as, upload, name, data, role="lead", url=URL):
    return client_as(role).post(url, {"file": upload(name, data)}, format="multipart")


def test_it_imports_a_parquet_file(client_as, campaign, upload):
    response = post(client_as, upload, "prompts.parquet", parquet(ROWS))
    assert response.status_code == 201, response.json()
    assert response.json()["format"] == "parquet"
    prompts = {p.text: p for p in Prompt.objects.filter(campaign=campaign)}
    assert prompts["Name a prime"].split == "held_out" and prompts["Name a prime"].metadata == {"topic": "maths"}
    assert [c.text for c in prompts["Explain recursion"].completions.all()] == ["It calls itself."]


def test_it_imports_an_arrow_file(client_as, campaign, upload):
    response = post(client_as, upload, "data-00000-of-00001.arrow", arrow_stream(ROWS))
    assert response.status_code == 201, response.json()
    assert written(campaign)["prompts"] == 2


def test_it_imports_a_save_to_disk_dataset_dict_by_split(client_as, campaign, upload, tmp_path):
    datasets = pytest.importorskip("datasets")
    plain = [{"prompt": r["prompt"]} for r in ROWS]
    datasets.DatasetDict({"train": datasets.Dataset.from_list(plain[:1]),
                          "test": datasets.Dataset.from_list(plain[1:])}).save_to_disk(str(tmp_path / "prompts"))
    response = post(client_as, upload, "prompts.zip", zipped(tmp_path / "prompts"))
    assert response.status_code == 201, response.json()
    assert dict(Prompt.objects.filter(campaign=campaign).values_list("text", "split")) == {
        "Explain recursion": "train", "Name a prime": "held_out"}


def test_it_imports_a_save_to_disk_dataset(client_as, campaign, upload, tmp_path):
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "prompts"))
    response = post(client_as, upload, "prompts.zip", zipped(tmp_path / "prompts"))
    assert response.status_code == 201, response.json()
    assert written(campaign)["completions"] == 2


def test_it_rejects_the_whole_dataset_naming_each_bad_row(client_as, campaign, upload):
    rows = [ROWS[0], {"prompt": "  ", "split": "dev"}, {"prompt": "fine"}]
    response = post(client_as, upload, "prompts.parquet", parquet(rows))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {(e["line"], e["field"]) for e in errors} == {(2, "prompt"), (2, "split")}
    assert written(campaign)["prompts"] == 0


@pytest.mark.parametrize("name, data, message", [
    ("prompts.parquet", b"not parquet at all", "cannot be read as a parquet file"),
    ("prompts.arrow", b"not arrow", "cannot be read as a Arrow file"),
    ("prompts.zip", b"PK not a zip", "cannot be read as a zip of a save_to_disk folder"),
])
def test_it_names_a_file_that_is_not_a_dataset(client_as, campaign, upload, name, data, message):
    response = post(client_as, upload, name, data)
    assert response.status_code == 400
    assert error_fields(response) == {"file"}
    assert message in response.json()["errors"][0]["message"]
    assert written(campaign)["imports"] == 0


def test_it_refuses_a_zip_without_a_dataset(client_as, campaign, upload):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    response = post(client_as, upload, "prompts.zip", out.getvalue())
    assert response.status_code == 400 and "no state.json" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("role, status", role_cases(
    {"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}))
def test_only_leads_preview_and_a_preview_writes_nothing(client_as, campaign, upload, role, status):
    response = post(client_as, upload, "prompts.parquet", parquet(ROWS * 6 + [{"prompt": f"p{i}"} for i in range(3)]),
                    role=role, url=f"{URL}preview/")
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["ok"] is True and body["prompts"] == 15 and body["completions"] == 12  # rows read; repeats skipped on write
        assert len(body["first_rows"]) == 10 and [r["line"] for r in body["first_rows"]] == list(range(1, 11))
        assert [r["prompt"] for r in body["first_rows"]][:2] == ["Explain recursion", "Name a prime"]
        assert body["first_rows"][0]["completions"] == [{"text": "It calls itself.", "policy": "base-v1"}]
    assert written(campaign) == dict.fromkeys(["prompts", "policies", "completions", "imports"], 0)


def test_a_preview_of_a_bad_file_lists_its_errors(client_as, campaign, upload):
    response = post(client_as, upload, "prompts.parquet", parquet([{"prompt": ""}]), url=f"{URL}preview/")
    assert response.status_code == 200
    assert response.json()["ok"] is False and response.json()["errors"][0]["field"] == "prompt"


def test_the_import_page_previews_the_first_rows(page_as, campaign, upload):
    client = page_as("lead")
    html = client.post("/campaigns/helpful/import/", {"file": upload("p.parquet", parquet(ROWS)), "action": "preview"})
    text = html.content.decode()
    assert html.status_code == 200 and "data-preview" in text and "Explain recursion" in text
    assert "would read <strong>2</strong> prompts" in text
    assert written(campaign)["prompts"] == 0
    assert client.post("/campaigns/helpful/import/", {"file": upload("p.parquet", parquet(ROWS))}).status_code == 302
    assert written(campaign)["prompts"] == 2


@pytest.mark.django_db(transaction=True)
def test_a_large_dataset_is_imported_by_the_job_worker(client_as, campaign, upload, settings):
    from labelhub.ops.loop_simulation import run_jobs

    settings.LABELHUB_IMPORT_JOB_BYTES = 2000
    data = parquet([{"prompt": f"Question {i}: why?", "completions": [{"text": f"Because {i}."}]} for i in range(600)])
    assert len(data) > 2000
    response = post(client_as, upload, "big.parquet", data)
    assert response.status_code == 202, response.json()
    assert response.json()["format"] == "parquet"
    run_jobs(queues=("imports",))
    record = client_as("lead").get(response["Location"]).json()
    assert (record["state"], record["lines_total"], record["prompts_created"]) == ("succeeded", 600, 600)
