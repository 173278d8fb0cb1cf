"""The leaderboard page offers Promote and Send to labeling only where they can work, and a
promotion quotes the interval the table showed for that version."""

import re

import pytest

from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash

pytestmark = pytest.mark.django_db

PAGE = "/campaigns/helpful/leaderboard/"


def row_of(html: str, name: str) -> str:
    row = html[html.index(f"<td>{name}"):]
    return row[:row.index("</tr>")]


@pytest.fixture
def as_role(client, users_by_role):
    def login(role):
        client.force_login(users_by_role[role])
        return client

    return login


def test_it_offers_nothing_on_the_reference_row(as_role, judged_campaign):
    html = as_role("engineer").get(PAGE).content.decode()
    good = row_of(html, "good")  # the first root version: the reference while there is no best
    assert '<span class="badge">reference</span>' in good
    assert "<button" not in good and "not promotable" not in good


def test_it_offers_promote_only_to_a_version_whose_interval_clears_the_reference(as_role, judged_campaign):
    Policy.objects.filter(campaign=judged_campaign, name="bad").update(is_best=True)
    html = as_role("lead").get(PAGE).content.decode()
    assert ">Promote</button>" in row_of(html, "good") and ">Promote</button>" in row_of(html, "mixed")
    assert "<button" not in row_of(html, "bad")  # the best is the reference

    Policy.objects.filter(campaign=judged_campaign).update(is_best=False)
    Policy.objects.filter(campaign=judged_campaign, name="good").update(is_best=True)
    html = as_role("lead").get(PAGE).content.decode()
    for name in ("mixed", "bad"):  # both below the best
        assert "<button" not in row_of(html, name) and "not promotable yet: its interval reaches 0" in row_of(html, name)


def test_a_reviewer_is_offered_no_action(as_role, judged_campaign):
    Policy.objects.filter(campaign=judged_campaign, name="bad").update(is_best=True)
    html = as_role("reviewer").get(PAGE).content.decode()
    assert "<button" not in html[html.index('id="standings"'):]


def test_the_promotion_quotes_the_interval_the_table_showed(as_role, judged_campaign):
    Policy.objects.filter(campaign=judged_campaign, name="bad").update(is_best=True)
    client = as_role("engineer")
    mixed = Policy.objects.get(campaign=judged_campaign, name="mixed")
    shown = re.search(r'<td data-field="interval">(\[[^<]+\])</td>', row_of(client.get(PAGE).content.decode(), "mixed"))[1]
    response = client.post(f"{PAGE}promote/", {"policy": mixed.pk}, follow=True)
    assert f"mixed is now the best version (95% interval {shown}, as in the table)." in response.content.decode()
    assert Policy.objects.get(pk=mixed.pk).is_best


def test_it_offers_send_to_labeling_only_to_a_version_the_loop_has_not_sent(as_role, judged_campaign):
    good, mixed = (Policy.objects.get(campaign=judged_campaign, name=n) for n in ("good", "mixed"))
    Policy.objects.filter(pk=good.pk).update(base_model="tiny")
    Policy.objects.filter(pk=mixed.pk).update(base_model="tiny", parent=good)
    prompt = Prompt.objects.create(campaign=judged_campaign, text="held out?", split="held_out",
                                   content_hash=content_hash("held out?"))
    html = as_role("engineer").get(PAGE).content.decode()
    assert "Send to labeling" in row_of(html, "mixed")  # a base model, an earlier version, no held-out answers yet
    assert "Send to labeling" not in row_of(html, "good")  # the root: nothing earlier to compare with
    assert "Send to labeling" not in row_of(html, "bad")  # no base model to generate with

    # What a loop round leaves behind, automatic or not: the version's answers on the held-out prompts.
    Completion.objects.create(prompt=prompt, policy=mixed, text="an answer", content_hash=content_hash("an answer"))
    assert "Send to labeling" not in as_role("engineer").get(PAGE).content.decode()
