"""The dashboard in a real browser: the system Chromium (Debian's package) driven by Selenium.

The dashboard runs as ``ldn-bot dashboard`` in its own process on a free port; the browser loads
the home page (its charts drawn by vega-embed), a country's page, a query's page and a canned
query, checks what they say, and saves a screenshot of each as a test artifact under
``test-artifacts/`` at the top of the checkout (ignored by git; CI keeps that folder):
``dashboard-home.png``, ``dashboard-country-KEN.png``, ``dashboard-query-1.png``,
``dashboard-overdue-milestones.png``.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.dashboard.seed import seed

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytest.importorskip("datasette")
webdriver = pytest.importorskip("selenium.webdriver")

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    if os.environ.get("CI"):
        raise RuntimeError("CI must install chromium and chromium-driver (.ci/install-browser)")
    pytest.skip("no /usr/bin/chromium or /usr/bin/chromedriver here (apt-get install chromium chromium-driver); "
                ".ci/install-browser installs them in CI", allow_module_level=True)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(f"the dashboard exited with {process.returncode}: {process.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/-/versions.json", timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            try:
                process.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                pass
    raise AssertionError("the dashboard did not answer")


@pytest.fixture
def served(env, tmp_path):
    ids = seed(env)
    env.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    port = free_port()
    child_env = {**os.environ, "LDN_DB": env.services.config.db_path, "LDN_NOW": "2016-05-20T08:00:00Z"}
    child_env.pop("LDN_DASHBOARD_PASSWORD_HASH", None)
    process = subprocess.Popen([sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))",
                                "dashboard", "--port", str(port)], env=child_env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url, ids
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,1600"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def shoot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    assert driver.save_screenshot(str(path)), path
    assert path.stat().st_size > 10_000
    return path


def test_an_officer_browses_home_country_and_query(served, browser):
    url, ids = served
    wait = WebDriverWait(browser, 60)

    browser.get(url + "/")
    assert "secretariat dashboard" in browser.find_element(By.TAG_NAME, "h1").text
    for chart in ("chart-progress", "chart-overdue", "chart-weeks"):
        wait.until(lambda d, c=chart: d.find_element(By.ID, c).get_attribute("data-drawn") == "1")
        svg = browser.find_element(By.CSS_SELECTOR, f"#{chart} svg")
        assert svg.size["width"] > 200 and svg.size["height"] > 50  # vega-embed drew it
        assert browser.find_elements(By.CSS_SELECTOR, f"#{chart} svg .mark-rect path")  # bars or cells
    progress = browser.find_element(By.ID, "chart-progress").text + browser.find_element(By.ID, "chart-progress").get_attribute("innerHTML")
    assert "Africa" in progress and "overdue" in progress
    assert browser.find_element(By.ID, "sla-first").text == "50.0%"
    shoot(browser, "dashboard-home.png")

    browser.find_element(By.LINK_TEXT, "SLA by region").click()
    wait.until(ec.title_contains("Helpdesk SLA by region"))
    assert "Africa" in browser.find_element(By.CSS_SELECTOR, "table.rows-and-columns").text

    browser.get(url + "/country/KEN")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Kenya")
    assert "Wanjiru" in browser.find_element(By.ID, "focal-points").text
    checklist = browser.find_element(By.ID, "checklist").text
    assert "done" in checklist and "(overdue)" in checklist
    shoot(browser, "dashboard-country-KEN.png")

    browser.find_element(By.LINK_TEXT, f"#{ids['first']}").click()
    wait.until(ec.title_contains(f"Query #{ids['first']}"))
    assert "Start from the Trends.Earth default data." in browser.find_element(By.ID, "thread").text
    assert "Amina" in browser.find_element(By.ID, "events").text
    asked = browser.find_element(By.ID, "asked").text
    assert "Wanjiru" in asked and "Kenya" in asked and "Amina" in asked
    shoot(browser, f"dashboard-query-{ids['first']}.png")

    browser.get(url + "/ldn/overdue_milestones")
    results = browser.find_element(By.CSS_SELECTOR, "table.rows-and-columns").text
    assert "Kenya" in results and "LDN leverage opportunities identified" in results and "leverage_plan" not in results
    assert not browser.find_elements(By.ID, "sql-query")  # the SQL is folded away
    shoot(browser, "dashboard-overdue-milestones.png")


def test_the_served_database_is_read_only(served):
    """What ``ldn-bot dashboard`` itself reports: an immutable database that cannot be downloaded."""
    url, _ids = served
    with urllib.request.urlopen(url + "/-/databases.json", timeout=10) as response:
        databases = json.load(response)
    assert [(d["name"], d["is_mutable"]) for d in databases] == [("ldn", False)]
    try:
        urllib.request.urlopen(url + "/ldn.db", timeout=10)
        raise AssertionError("the database file was downloadable")
    except urllib.error.HTTPError as refused:
        assert refused.code == 403
