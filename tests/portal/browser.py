"""What every browser test of the portal shares: Debian's Chromium driven by Playwright on a
phone-sized screen, axe-core on each page, CSP reports caught, screenshots for the README."""

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE_SCREEN = {"width": 390, "height": 844}  # a common phone, in CSS pixels
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SERIOUS = ("serious", "critical")
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


def launch_browser():
    """A context manager giving a headless Chromium (Playwright cannot download its own browsers here)."""
    from contextlib import contextmanager

    from playwright.sync_api import sync_playwright

    @contextmanager
    def launched():
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    return launched()


def phone_page(browser, base_url: str, language: str = "zh-CN", **options):
    """A new phone-sized page in the given language; CSP violations it reports gather in page.csp_violations."""
    context = browser.new_context(viewport=PHONE_SCREEN, device_scale_factor=1, is_mobile=True, has_touch=True,
                                  locale=language, base_url=base_url, **options)
    context.add_cookies([{"name": "yizhan_lang", "value": language, "url": base_url}])
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and page.csp_violations.append(message.text))
    return page


def accessible(page) -> None:
    """axe-core on the page as it is now: no serious or critical violation, and no CSP report."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations if v["impact"] in SERIOUS]
    assert not serious, f"{page.url}: {serious}"
    assert not page.csp_violations, page.csp_violations


def photograph(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
