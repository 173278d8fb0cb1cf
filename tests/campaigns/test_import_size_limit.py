"""The upload size limit is a setting (LABELHUB_IMPORT_MAX_BYTES, 50 MB by default); a larger
file is refused with the sizes in the message, before it is read."""

import os

import pytest
from django.conf import settings as django_settings

from labelhub.campaigns import services
from labelhub.campaigns.imports import ImportRejected
from tests.campaigns.conftest import written

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/imports/"
LINE = b'{"prompt": "Explain recursion"}\n'  # 32 bytes


@pytest.mark.skipif("LABELHUB_IMPORT_MAX_BYTES" in os.environ, reason="the limit is set in the environment")
def test_it_defaults_to_50_megabytes():
    assert django_settings.LABELHUB_IMPORT_MAX_BYTES == 50 * 1024 * 1024


def test_it_refuses_an_upload_over_the_limit(client_as, campaign, upload, settings):
    settings.LABELHUB_IMPORT_MAX_BYTES = 63
    response = client_as("lead").post(URL, {"file": upload("b.jsonl", LINE * 2)}, format="multipart")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["line"], error["field"]) == (None, "file")
    assert error["message"] == "is 64 bytes, over the limit of 63 bytes"
    assert written(campaign) == dict.fromkeys(["prompts", "policies", "completions", "imports"], 0)


def test_it_accepts_an_upload_at_the_limit(client_as, campaign, upload, settings):
    settings.LABELHUB_IMPORT_MAX_BYTES = 64
    response = client_as("lead").post(URL, {"file": upload("b.jsonl", LINE * 2)}, format="multipart")
    assert response.status_code == 201


def test_it_does_not_read_an_upload_over_the_limit(campaign, lead, upload, settings):
    settings.LABELHUB_IMPORT_MAX_BYTES = 10
    file = upload("b.jsonl", LINE)
    with pytest.raises(ImportRejected):
        services.prompts_import_upload(campaign=campaign, user=lead, upload=file)
    assert file.tell() == 0


def test_it_checks_the_limit_on_bytes_too(campaign, lead, settings):
    settings.LABELHUB_IMPORT_MAX_BYTES = 10
    with pytest.raises(ImportRejected) as refused:
        services.prompts_import(campaign=campaign, user=lead, filename="b.jsonl", data=LINE)
    assert [(e.line, e.field) for e in refused.value.errors] == [(None, "file")]
    assert not campaign.prompts.exists()
