"""/campaigns/<slug>/import/: the lead's upload form; a refused upload shows each error's
line and field and writes nothing."""

import pytest

from tests.campaigns.conftest import role_cases, written

pytestmark = pytest.mark.django_db

URL = "/campaigns/helpful/import/"
NOTHING = dict.fromkeys(["prompts", "policies", "completions", "imports"], 0)
ROLE_STATUS = role_cases({"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": 302})


@pytest.mark.parametrize("role, status", ROLE_STATUS)
def test_it_shows_the_form_only_to_leads(page_as, campaign, role, status):
    response = page_as(role).get(URL)
    assert response.status_code == status
    if status == 200:
        assert b'type="file" name="file"' in response.content
        assert b"csrfmiddlewaretoken" in response.content
    if role == "anonymous":
        assert response["Location"] == f"/login/?next={URL}"


@pytest.mark.parametrize("role, status", role_cases({**dict(ROLE_STATUS), "lead": 302}))
def test_it_accepts_uploads_only_from_leads(page_as, campaign, upload, role, status):
    response = page_as(role).post(URL, {"file": upload("b.jsonl", '{"prompt": "Q", "completions": ["A"]}\n')})
    assert response.status_code == status
    assert written(campaign) == ({"prompts": 1, "policies": 1, "completions": 1, "imports": 1} if role == "lead" else NOTHING)


def test_it_reports_what_was_imported(page_as, campaign, upload):
    content = '{"prompt": "Q", "completions": ["A", "B"]}\n{"prompt": "Q"}\n'
    response = page_as("lead").post(URL, {"file": upload("b.jsonl", content)}, follow=True)
    assert response.redirect_chain == [("/campaigns/helpful/", 302)]
    assert b"Imported 1 prompts (1 duplicates skipped) and 2 completions (0 skipped)." in response.content


def test_it_lists_each_error_with_its_line_and_field(page_as, campaign, upload):
    content = '{"prompt": "fine"}\n{"prompt": 7}\n{"prompt": "x", "completions": [{"policy": "p"}]}\n'
    response = page_as("lead").post(URL, {"file": upload("b.jsonl", content)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Import rejected — nothing was written" in html
    assert "<td>2</td><td><code>prompt</code></td><td>must be a string, not a number</td>" in html
    assert "<td>3</td><td><code>completions[0].text</code></td>" in html
    assert written(campaign) == NOTHING


def test_it_shows_a_file_error_without_a_line(page_as, campaign, upload, settings):
    settings.LABELHUB_IMPORT_MAX_BYTES = 5
    response = page_as("lead").post(URL, {"file": upload("b.jsonl", '{"prompt": "Q"}\n')})
    assert response.status_code == 400
    assert "<td>—</td><td><code>file</code></td><td>is 16 bytes, over the limit of 5 bytes</td>" in response.content.decode()
    assert written(campaign) == NOTHING


def test_it_asks_for_a_file_when_none_is_sent(page_as, campaign):
    response = page_as("lead").post(URL, {})
    assert response.status_code == 400
    assert b"choose a .jsonl, .csv, .parquet, .arrow or .zip file" in response.content


def test_it_escapes_uploaded_values_quoted_in_errors(page_as, campaign, upload):
    response = page_as("lead").post(URL, {"file": upload("b.jsonl", '{"prompt": "x", "split": "<b>bold</b>"}\n')})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
