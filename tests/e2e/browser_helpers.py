"""A headless Chromium driven by Selenium for the console tests (Debian's chromium + driver).

``scripts/browser.py`` installs the browser when it is missing; only when it truly cannot
be installed are the browser tests skipped, with the reason printed.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
# Set to a folder (e.g. docs/images) to keep screenshots of the pages the tests visit.
SCREENSHOTS = os.environ.get("WORKHOOKS_SCREENSHOTS")


def _ensure_browser() -> str | None:
    spec = importlib.util.spec_from_file_location("browser_setup", ROOT / "scripts" / "browser.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    reason: str | None = module.ensure()
    return reason


@pytest.fixture(scope="session")
def chromium() -> Iterator[WebDriver]:
    """One headless Chromium for the session (installed first when missing)."""
    reason = _ensure_browser()
    if reason is not None:
        print(f"browser tests skipped: {reason}")
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def by_test_id(driver: WebDriver, test_id: str) -> WebElement:
    """The element marked ``data-testid``."""
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{test_id}"]')


def fill(driver: WebDriver, fields: dict[str, str]) -> None:
    """Type into the named inputs of the page."""
    for name, value in fields.items():
        element = driver.find_element(By.NAME, name)
        element.clear()
        element.send_keys(value)


def follow(driver: WebDriver, element: WebElement) -> None:
    """Click something that loads a new page, and wait until the old page is gone."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 10).until(lambda _: _gone(page))


def _gone(page: WebElement) -> bool:
    """Whether ``page`` (an element of the page before) no longer belongs to the document.

    While the new page replaces it, chromedriver may answer "Node with given id does not
    belong to the document" instead of a stale element reference: gone as well.
    """
    try:
        page.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in (exc.msg or ""):
            return True
        raise
    return False


def submit(driver: WebDriver) -> None:
    """Press the page's submit button inside <main> and wait for the next page."""
    follow(driver, driver.find_element(By.CSS_SELECTOR, 'main button[type="submit"]'))


def snapshot(driver: WebDriver, name: str) -> None:
    """Save a screenshot of the page when ``WORKHOOKS_SCREENSHOTS`` names a folder."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SCREENSHOTS) / f"{name}.png"))
