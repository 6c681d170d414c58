"""The venue page's week pager in Debian's Chromium: with JavaScript, htmx swaps only the week
grid (no page load: a marker on `window` survives), pushes the address and keeps the focus on
the link; without JavaScript the same link loads the next week as a whole page. axe-core stays
clean and the strict Content-Security-Policy reports nothing."""

import re

import pytest
from playwright.sync_api import expect

from tests.portal.browser import PHONE_SCREEN, accessible, needs_chromium, photograph
from tests.portal.test_pages_browser import station  # noqa: F401 (the same station fixture)

pytestmark = [pytest.mark.e2e, needs_chromium]

WEEK_HEADING = "#week h2"
# Waits go through Playwright's locators and expect(), never page.wait_for_function with a string:
# its polling evaluates the string with eval, which the portal's CSP (no 'unsafe-eval') refuses.


def open_venue(page) -> str:
    page.goto("/venues/3")  # waits for the load event, so the deferred htmx has run
    return page.locator(WEEK_HEADING).inner_text()


def test_next_week_swaps_only_the_grid_and_updates_the_address(page, station):
    first_week = open_venue(page)
    assert page.evaluate("[htmx.config.allowEval, htmx.config.includeIndicatorStyles]") == [False, False]
    page.evaluate("window.sameDocument = 'still here'")
    page.locator("#next-week").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/venues/3\?week=\d{4}-\d{2}-\d{2}$"))
    expect(page.locator(WEEK_HEADING)).not_to_have_text(first_week)
    assert page.evaluate("window.sameDocument") == "still here", "the page was loaded again"
    assert page.locator(".day").count() == 7 and page.locator("h1").count() == 1
    # The link used keeps the focus (htmx restores it by id), so a keyboard user can go on.
    assert page.evaluate("document.activeElement.id") == "next-week"
    assert page.locator("#week").get_attribute("aria-live") == "polite"
    accessible(page)
    photograph(page, "venue-next-week-htmx")
    second_week = page.locator(WEEK_HEADING).inner_text()
    # The language switch follows the week shown (htmx swapped the menu's link out of band).
    assert page.locator("#language-switch").count() == 1
    week = re.search(r"week=[\d-]+$", page.url).group(0)
    page.get_by_role("link", name="Switch to English").click()
    page.wait_for_url(f"**/venues/3?{week}")
    assert "Free and busy" in page.locator(WEEK_HEADING).inner_text()
    page.get_by_role("link", name="切换到中文").click()
    page.wait_for_url(f"**/venues/3?{week}")

    # The pushed address is shareable: opened afresh it shows the same week as a whole page.
    address = page.url
    page.goto(address)
    assert page.locator(WEEK_HEADING).inner_text() == second_week
    assert not page.csp_violations, page.csp_violations


def test_back_after_a_swap_shows_the_first_week_again(page, station):
    first_week = open_venue(page)
    page.locator("#next-week").click()
    page.wait_for_url(re.compile(r"\?week="))
    expect(page.locator(WEEK_HEADING)).not_to_have_text(first_week)
    page.go_back()
    expect(page.locator(WEEK_HEADING)).to_have_text(first_week)
    assert page.url.endswith("/venues/3")
    assert page.locator("h1").count() == 1 and page.locator(".day").count() == 7
    assert not page.csp_violations, page.csp_violations


def test_without_javascript_next_week_loads_the_whole_next_page(browser, station):
    context = browser.new_context(viewport=PHONE_SCREEN, device_scale_factor=1, is_mobile=True, has_touch=True,
                                  locale="zh-CN", base_url=station.portal.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/venues/3")
        first_week = page.locator(WEEK_HEADING).inner_text()
        with page.expect_navigation() as navigation:
            page.get_by_role("link", name="下一周 →").click()
        response = navigation.value
        assert response.status == 200 and "<!doctype html>" in response.text()
        assert re.search(r"/venues/3\?week=\d{4}-\d{2}-\d{2}$", page.url)
        assert page.locator(WEEK_HEADING).inner_text() != first_week
        assert page.locator("h1").count() == 1 and page.locator(".day").count() == 7
        photograph(page, "venue-next-week-no-javascript")
    finally:
        context.close()
