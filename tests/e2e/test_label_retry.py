"""A lost answer is never lost silently: the page keeps it and sends it again with the same key."""

import pytest
from playwright.sync_api import expect

from labelhub.labeling.models import Judgment
from tests.e2e.labeling_support import labeling_campaign, open_labeling

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUBMIT = "**/api/labeling/assignments/*/submit/"


def rank_and_submit(page):
    for key in ("3", "1", "2", "Enter"):
        page.keyboard.press(key)


def test_it_retries_with_the_same_key_when_the_answer_is_lost_on_the_way_back(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, prompts=[("Question?", ["a", "b", "c"])])
    page = open_labeling(log_in, labeler.username, campaign)
    sent, statuses = [], []

    def lose_the_first_answer(route):
        sent.append(route.request.post_data_json)
        response = route.fetch()  # the server stores the judgment…
        statuses.append(response.status)
        if len(sent) == 1:
            route.abort("connectionreset")  # …but its answer never reaches the browser
        else:
            route.fulfill(response=response)

    page.route(SUBMIT, lose_the_first_answer)
    rank_and_submit(page)

    expect(page.locator("#notice")).to_contain_text("Your answer is kept")
    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    assert statuses == [201, 200]  # the retry got the first judgment back
    assert sent[0] == sent[1]  # same body, same idempotency key
    judgment = Judgment.objects.get()
    assert judgment.idempotency_key == sent[0]["idempotency_key"]
    assert judgment.ranking == [[judgment.display_order[2]], [judgment.display_order[0]], [judgment.display_order[1]]]


def test_it_keeps_the_answer_while_the_server_is_unreachable(log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, prompts=[("Question?", ["a", "b", "c"])])
    page = open_labeling(log_in, labeler.username, campaign)
    page.route(SUBMIT, lambda route: route.abort("internetdisconnected"))
    rank_and_submit(page)

    expect(page.locator("#notice")).to_contain_text("will be sent again")
    expect(page.locator("#ranking .chip")).to_have_count(3)  # the answer is still on screen
    assert not Judgment.objects.exists()
    page.unroute(SUBMIT)
    page.get_by_role("button", name="Retry now").click()

    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    assert Judgment.objects.count() == 1
