"""Drag-and-drop ranking: chips dragged into and within the ranking list are stored in that order."""

import pytest
from playwright.sync_api import expect

from labelhub.labeling.models import Judgment
from tests.e2e.labeling_support import completion_ids_on_screen, labeling_campaign, open_labeling

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RANKING_IDS = "() => [...document.querySelectorAll('#ranking .chip')].map(c => Number(c.dataset.id))"


def drag(page, completion_id, target, *, where, preview):
    """Drag a chip with the mouse onto the top or bottom edge of ``target``; release once the
    ranking list previews ``preview`` (as a person would: SortableJS moves the chip while it is held)."""
    start, end = page.locator(f'.chip[data-id="{completion_id}"]').bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    y = end["y"] + (3 if where == "top" else end["height"] - 3)
    page.mouse.move(end["x"] + end["width"] / 2, y, steps=10)
    page.wait_for_function(f"expected => JSON.stringify(({RANKING_IDS})()) === JSON.stringify(expected)", arg=preview)
    page.mouse.up()


def test_it_stores_a_ranking_made_by_dragging(browser_page, log_in, lead, labeler):
    campaign = labeling_campaign(lead=lead, labeler=labeler, prompts=[("Question?", ["First", "Second", "Third"])])
    browser_page.emulate_media(reduced_motion="reduce")  # SortableJS ignores a press on a chip still animating
    page = open_labeling(log_in, labeler.username, campaign)
    one, two, three = completion_ids_on_screen(page)
    ranking = page.locator("#ranking")

    drag(page, two, ranking, where="bottom", preview=[two])
    drag(page, three, ranking, where="bottom", preview=[two, three])
    drag(page, one, ranking, where="bottom", preview=[two, three, one])
    expect(page.locator("#pool .chip")).to_have_count(0)
    drag(page, one, page.locator(f'#ranking .chip[data-id="{two}"]'), where="top", preview=[one, two, three])

    expect(page.locator(f'.completion-card[data-id="{one}"] .rank-badge')).to_have_text("Rank 1")
    expect(page.locator(f'.completion-card[data-id="{three}"] .rank-badge')).to_have_text("Rank 3")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    assert Judgment.objects.get().ranking == [[one], [two], [three]]
    assert page.dialogs == []
