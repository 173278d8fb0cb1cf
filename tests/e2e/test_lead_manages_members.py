"""In Chromium: a lead invites someone from the members page; that person sees the invitation
in their own account and accepts it; the lead then sees them, with their role, judgments and
last activity, and removes them. Others are refused the page; no page breaks the CSP."""


import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"


def signed_in(browser, port, username, violations):
    context = browser.new_context(base_url=f"http://127.0.0.1:{port}")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def test_a_lead_invites_the_invitee_accepts_and_the_lead_removes_them(browser, asgi_server, campaign, lead, labeler, outsider):
    from playwright.sync_api import expect

    violations = []
    lead_page = signed_in(browser, asgi_server, "lead", violations)
    lead_page.goto("/campaigns/helpful/")
    lead_page.get_by_role("link", name="Manage members").click()
    expect(lead_page.locator("h1")).to_have_text("Members")

    # a mistake is shown next to its field, and nothing is sent
    lead_page.get_by_role("button", name="Invite").click()
    expect(lead_page.locator("#username-error")).to_contain_text("username or their e-mail address")

    lead_page.locator('#invite input[name="username"]').fill("outsider")
    lead_page.locator('#invite select[name="role"]').select_option("labeler")
    lead_page.get_by_role("button", name="Invite").click()
    expect(lead_page.locator(".message")).to_contain_text("Invited outsider as labeler")
    expect(lead_page.locator('#invitations tr[data-invitee="outsider"]')).to_contain_text("Pending")
    expect(lead_page.locator('#members tr[data-member="outsider"]')).to_have_count(0)

    # the invitee: not a member yet, so the members page is not found for them
    invitee = signed_in(browser, asgi_server, "outsider", violations)
    assert invitee.goto("/campaigns/helpful/members/").status == 404
    invitee.goto("/campaigns/")
    invitee.locator("#invitations-notice").get_by_role("link").click()
    expect(invitee.locator(".invitation h2")).to_have_text("Helpful answers")
    invitee.get_by_role("button", name="Accept").click()
    expect(invitee.locator(".message")).to_contain_text("You joined Helpful answers as labeler.")
    assert invitee.url.endswith("/label/")
    expect(invitee.locator("table.list")).to_contain_text("Helpful answers")
    # a labeler may not manage members
    assert invitee.goto("/campaigns/helpful/members/").status == 403

    lead_page.reload()
    row = lead_page.locator('#members tr[data-member="outsider"][data-role="labeler"]')
    expect(row.locator('[data-field="judgments"]')).to_have_text("0")
    expect(row.locator('[data-field="last-activity"]')).to_have_text("none")
    expect(lead_page.locator('#invitations tr[data-invitee="outsider"]')).to_contain_text("Accepted")
    row.get_by_role("button", name="Remove").click()
    expect(lead_page.locator(".message")).to_contain_text("outsider is no longer labeler here.")
    expect(lead_page.locator('#members tr[data-member="outsider"]')).to_have_count(0)

    invitee.goto("/label/")
    expect(invitee.locator("main")).to_contain_text("You are not a labeler in any campaign yet.")
    assert violations == []
