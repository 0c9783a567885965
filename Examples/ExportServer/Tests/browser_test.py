#!/usr/bin/env python3
"""Real-browser test: headless Chromium (Debian's, driven by Playwright) signs in, requests an export,
watches it run, downloads the file and parses it with csv; cancels a running export; reads a failure's
reason; checks that bob cannot see alice's export, downloads included; creates, lists, pauses, resumes and
deletes schedules, sees a schedule's run in the export list and a bad cron's error beside the form. Saves a
screenshot to Docs/images/export-server.png (SCREENSHOT_PATH overrides).

Needs: apt-get install chromium; pip install playwright (no browser download: the system Chromium is
used, CHROMIUM overrides its path)."""
import csv
import email
import email.policy
import glob
import html
import os
import re
import shutil
import sys
import tempfile
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server import PACKAGE, Server

try:
    from playwright.sync_api import Error as PlaywrightError, expect, sync_playwright
except ImportError:
    sys.exit("FAIL: Playwright for Python is missing: pip install playwright (the test uses the system Chromium, no browser download)")

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    sys.exit("FAIL: Chromium is missing: apt-get update && apt-get install -y chromium (or set CHROMIUM=/path/to/chrome)")
SCREENSHOT = os.environ.get("SCREENSHOT_PATH") or os.path.join(PACKAGE, "..", "..", "Docs", "images", "export-server.png")
COLUMNS = ["membership_id", "user_id", "organization_name", "plan", "role", "status", "started_at", "amount", "currency", "seat_count"]
ROWS = 30000


def email_link(server, job_id):
    """The download link of the job's "ready" e-mail in the outbox (the text part, decoded)."""
    messages = glob.glob(os.path.join(server.data_dir, "outbox", job_id + "*.eml"))
    assert len(messages) == 1, messages
    with open(messages[0], "rb") as f:
        message = email.message_from_binary_file(f, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    links = re.findall(r"https?://\S+/api/v1/exports/[A-Za-z0-9_-]+/download", text)
    assert links, text
    return links[0]


def sign_in(page, url, user):
    page.goto(url + "/")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {user}")).to_be_visible()


def main():
    with Server("--users", "alice:demo,bob:demo,carol:demo", "--broken-users", "carol", "--rows", str(ROWS),
                "--page-size", "500", "--page-delay-ms", "80", "--heartbeat-ms", "500",
                "--schedule-interval", "1") as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            run(server, browser)
        except Exception:
            print(server.log()[-4000:], file=sys.stderr)
            raise
        finally:
            browser.close()
    print("browser test passed")


def run(server, browser):
    alice = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 760})
    page = alice.new_page()
    sign_in(page, server.url, "alice")
    expect(page.get_by_text("No exports yet.")).to_be_visible()

    # Choose the format and columns: exactly COLUMNS, in the page's order.
    page.get_by_label("Format").select_option("csv")
    for box in page.get_by_role("group", name="Columns").get_by_role("checkbox").all():
        box.set_checked(box.get_attribute("value") in COLUMNS)
    page.get_by_role("button", name="Request export").click()
    expect(page.get_by_role("status")).to_contain_text("Export requested")

    # Watch it: running, rows written increasing, then ready.
    row = page.locator("#exports tbody tr").first
    expect(row).to_have_attribute("data-state", "running", timeout=30_000)
    seen = set()
    while row.get_attribute("data-state") == "running":
        text = row.locator("td.rows").inner_text()
        seen.add(int(re.sub(r"\D", "", text.split("(")[0]) or 0))
        page.wait_for_timeout(150)
    assert len({n for n in seen if 0 < n < ROWS}) >= 2, f"rows written did not update while running: {sorted(seen)}"
    expect(row).to_have_attribute("data-state", "succeeded", timeout=60_000)
    expect(row.locator("td.state")).to_have_text("Ready")
    alice_id = row.get_attribute("data-id")

    # Download through the page and parse the file.
    with page.expect_download() as info:
        row.get_by_role("button", name=re.compile("^Download the csv export")).click()
    download = info.value
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    path = os.path.join(tempfile.mkdtemp(), download.suggested_filename)
    download.save_as(path)
    with open(path, newline="", encoding="utf-8") as f:
        records = list(csv.reader(f))
    assert records[0] == COLUMNS, records[0]
    assert len(records) == ROWS + 1, len(records)
    assert all(r[1] == "alice" for r in records[1:]), "a row of another user"
    assert all(len(r) == len(COLUMNS) for r in records), "ragged rows"
    print(f"downloaded {download.suggested_filename}: {len(records) - 1} rows, columns {records[0]}")

    # The e-mail carries the export's stable address, never a storage link: a browser that is not
    # signed in gets 401 (and no file); signed in as alice, the click is redirected to a fresh
    # short-lived link and gives the same file; bob gets 404.
    link = email_link(server, alice_id)
    assert link == f"{server.url}/api/v1/exports/{alice_id}/download", link
    stranger = browser.new_context(accept_downloads=True)
    answer = stranger.request.get(link, max_redirects=0)
    assert answer.status == 401, answer.status
    assert answer.headers.get("www-authenticate", "").startswith("Basic "), answer.headers
    assert "location" not in answer.headers, "no storage link for a stranger"
    # Opened in the browser, the link asks for the sign-in (headless Chromium has no dialog to show, and
    # reports the unanswered challenge as ERR_INVALID_AUTH_CREDENTIALS): no page, no file.
    try:
        stranger.new_page().goto(link)
        raise AssertionError("a signed-out browser opened the e-mailed link")
    except PlaywrightError as error:
        assert "ERR_INVALID_AUTH_CREDENTIALS" in str(error), error
    bob = browser.new_context(http_credentials={"username": "bob", "password": "demo"}).new_page()
    assert bob.goto(link).status == 404, "another user's export must be invisible"
    signed_in = browser.new_context(accept_downloads=True, http_credentials={"username": "alice", "password": "demo"}).new_page()
    signed_in.set_content(f'<a href="{html.escape(link)}">Download your export</a>')
    with signed_in.expect_download() as info:
        signed_in.get_by_role("link", name="Download your export").click()
    mailed = os.path.join(tempfile.mkdtemp(), info.value.suggested_filename)
    info.value.save_as(mailed)
    assert open(mailed, "rb").read() == open(path, "rb").read(), "the e-mailed link gave another file"
    print(f"e-mailed link {link} downloads the same file signed in, 401 signed out, 404 for another user")

    # A second export, JSON Lines: screenshot while it runs beside the finished one, then cancel it.
    page.get_by_label("Format").select_option("jsonl")
    page.get_by_role("button", name="Request export").click()
    running = page.locator("#exports tbody tr").first
    expect(running).to_have_attribute("data-state", "running", timeout=30_000)
    expect(running.locator("td.rows")).not_to_have_text("0", timeout=30_000)
    # Asking again while one runs gives that one back (the API's 202 for an active export), said so.
    page.get_by_role("button", name="Request export").click()
    expect(page.get_by_role("status")).to_contain_text("already have an export in progress")
    expect(page.locator("#exports tbody tr")).to_have_count(2)
    running.get_by_role("button", name=re.compile("^Cancel the jsonl export")).click()
    expect(running).to_have_attribute("data-state", "cancelled", timeout=30_000)
    expect(running.get_by_role("button", name=re.compile("^Download"))).to_have_count(0)

    schedules(server, page)

    # bob signs in elsewhere: sees nothing of alice's, and her export is 404 for him, download included.
    bob = browser.new_context().new_page()
    sign_in(bob, server.url, "bob")
    expect(bob.get_by_text("No exports yet.")).to_be_visible()
    statuses = bob.evaluate("""async (id) => {
        const headers = {"Authorization": "Basic " + sessionStorage.getItem("basic"), "X-Requested-With": "fetch"};
        const out = [];
        for (const path of ["/api/v1/exports/" + id, "/api/v1/exports/" + id + "/download"]) {
            out.push((await fetch(path, {headers, redirect: "manual"})).status);
        }
        out.push((await fetch("/api/v1/exports/" + id, {method: "DELETE", headers})).status);
        return out;
    }""", alice_id)
    assert statuses == [404, 404, 404], statuses
    # bob has no schedules either, and alice's (she deleted both) are gone.
    expect(bob.get_by_text("No schedules yet.")).to_be_visible()
    expect(bob.locator("#schedules tbody tr")).to_have_count(0)
    # …while alice still reaches it.
    assert server.request("GET", f"/api/v1/exports/{alice_id}/download", "alice")[0] == 302

    # carol's export fails: the page shows the reason.
    carol = browser.new_context().new_page()
    sign_in(carol, server.url, "carol")
    carol.get_by_role("button", name="Request export").click()
    failed = carol.locator("#exports tbody tr").first
    expect(failed).to_have_attribute("data-state", "failed", timeout=60_000)
    expect(failed.locator(".reason")).to_contain_text("could not be exported")

    # A wrong password is refused on the page, without the browser's own dialog.
    other = browser.new_context().new_page()
    other.goto(server.url + "/")
    other.get_by_label("User name").fill("alice")
    other.get_by_label("Password").fill("wrong")
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("alert").first).to_contain_text("not accepted")

    # alice deletes her finished export from the page (the schedules part accepts the confirmation):
    # the row says expired, the file is gone and the e-mailed address answers 410.
    finished = page.locator(f'#exports tbody tr[data-id="{alice_id}"]')
    finished.get_by_role("button", name=re.compile("^Delete the csv export")).click()
    expect(finished).to_contain_text("Expired", timeout=10_000)
    expect(finished.get_by_role("button", name=re.compile("^Download"))).to_have_count(0)
    assert signed_in.goto(link).status == 410, "the e-mailed address must die with the deleted export"
    print("deleted the finished export: its row says expired, the e-mailed address answers 410")


def next_monthly(now, day, hour, minute):
    """The first day-of-month `day` at hour:minute strictly after `now` (an aware datetime), on its clock."""
    candidate = now.replace(day=day, hour=hour, minute=minute, second=0, microsecond=0)
    while candidate <= now:
        candidate = (candidate.replace(day=28) + timedelta(days=4)).replace(day=day)
    return candidate


def api_schedule(server, name):
    status, listing = server.json("GET", "/api/v1/schedules?limit=100", "alice")
    assert status == 200, (status, listing)
    found = [s for s in listing["items"] if s["name"] == name]
    assert len(found) == 1, listing
    return found[0]


def schedules(server, page):
    """alice's Schedules section: a bad cron's error, a cron schedule with its next run, pause, resume, an
    interval schedule whose run shows in the export list, delete."""
    expect(page.get_by_role("heading", name="Schedules")).to_be_visible()
    expect(page.get_by_text("No schedules yet.")).to_be_visible()
    form = page.locator("#schedule")
    table = page.locator("#schedules tbody tr")
    error = page.locator("#schedule-error")

    # A bad cron: the page shows the API's own problem detail beside the form and marks the field.
    status, problem = server.json("POST", "/api/v1/schedules", "alice", {"name": "Bad", "cron": "61 * * * *", "timeZone": "UTC"})
    assert status == 400 and problem["invalid-params"][0]["name"] == "cron", (status, problem)
    form.get_by_label("Name", exact=True).fill("Bad")
    form.get_by_label("Cron expression", exact=True).fill("61 * * * *")
    form.get_by_label("Time zone").fill("UTC")
    form.get_by_role("button", name="Create schedule").click()
    expect(error).to_contain_text(problem["detail"])
    expect(form.get_by_label("Cron expression", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(table).to_have_count(0)
    print(f"bad cron shown beside the form: {error.inner_text()!r}")

    # A cron schedule in India's time zone: listed, its next run the API's and on Kolkata's clock.
    form.get_by_label("Name", exact=True).fill("Monthly report")
    form.get_by_label("Cron expression", exact=True).fill("30 23 1 * *")
    form.get_by_label("Time zone").fill("Asia/Kolkata")
    form.get_by_label("File type").select_option("jsonl")
    form.get_by_role("button", name="Create schedule").click()
    monthly = table.filter(has_text="Monthly report")
    expect(monthly).to_have_count(1)
    expect(error).to_have_text("")
    expect(form.get_by_label("Cron expression", exact=True)).not_to_have_attribute("aria-invalid", "true")
    created = api_schedule(server, "Monthly report")
    assert (created["cron"], created["timeZone"], created["format"], created["paused"]) == ("30 23 1 * *", "Asia/Kolkata", "jsonl", False), created
    kolkata = ZoneInfo("Asia/Kolkata")
    expected = next_monthly(datetime.now(kolkata), 1, 23, 30)
    assert datetime.fromisoformat(created["nextRunAt"].replace("Z", "+00:00")) == expected, (created["nextRunAt"], expected)
    expect(monthly).to_have_attribute("data-next-run", created["nextRunAt"])
    expect(monthly.locator("td.repeats")).to_have_text("cron 30 23 1 * * (Asia/Kolkata)")
    expect(monthly.locator("td.next-run")).to_contain_text(re.compile(r"(11:30\s?PM|23:30).*(GMT\+5:30|IST)"))
    expect(monthly.locator("td.runs")).to_have_text("0 runs")
    print(f"schedule listed, next run {monthly.locator('td.next-run').inner_text()!r} = {expected.isoformat()}")

    # Pause, then resume: the page and the API agree.
    monthly.get_by_role("button", name="Pause the schedule Monthly report").click()
    expect(monthly).to_have_attribute("data-paused", "true")
    expect(monthly.locator("td.next-run")).to_have_text("Paused")
    expect(monthly.get_by_role("button", name=re.compile("^Pause"))).to_have_count(0)
    assert api_schedule(server, "Monthly report")["paused"] is True
    monthly.get_by_role("button", name="Resume the schedule Monthly report").click()
    expect(monthly).to_have_attribute("data-paused", "false")
    expect(monthly.locator("td.next-run")).to_contain_text(re.compile(r"11:30\s?PM|23:30"))
    expect(monthly.get_by_role("button", name=re.compile("^Resume"))).to_have_count(0)
    assert api_schedule(server, "Monthly report")["paused"] is False

    # An hourly interval schedule runs first at once: its export appears in the list, named by it.
    form.get_by_label("At a fixed interval").check()
    form.get_by_label("Name", exact=True).fill("Hourly")
    form.get_by_label("Every", exact=True).fill("1")
    form.get_by_label("Interval unit").select_option("3600")
    form.get_by_label("File type").select_option("csv")
    form.get_by_role("button", name="Create schedule").click()
    hourly = table.filter(has_text="Hourly")
    expect(hourly).to_have_count(1)
    expect(hourly.locator("td.repeats")).to_have_text(re.compile(r"^every hour \("))
    hourly_id = hourly.get_attribute("data-id")
    run = page.locator(f'#exports tbody tr[data-schedule="{hourly_id}"]')
    expect(run).to_have_count(1, timeout=30_000)
    expect(run.locator("td.origin")).to_have_text("Schedule “Hourly”")
    expect(run).to_have_attribute("data-state", "running", timeout=30_000)
    expect(run.locator("td.rows")).not_to_have_text("0", timeout=30_000)
    expect(hourly.locator("td.runs")).to_contain_text("1 run", timeout=30_000)
    # The screenshot: a scheduled run in progress beside the finished and the cancelled export.
    os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
    page.screenshot(path=SCREENSHOT, full_page=True)
    print(f"screenshot: {os.path.normpath(SCREENSHOT)}")
    job_id = run.get_attribute("data-id")
    status, job = server.json("GET", f"/api/v1/exports/{job_id}", "alice")
    assert status == 200 and job["schedule"]["id"] == hourly_id and job["schedule"]["name"] == "Hourly", job
    expect(run).to_have_attribute("data-state", "succeeded", timeout=60_000)
    after = api_schedule(server, "Hourly")
    assert after["runCount"] == 1 and after["links"]["lastExport"].endswith("/" + job_id), after
    expect(hourly).to_have_attribute("data-next-run", after["nextRunAt"])
    print(f"schedule run {job_id} listed as Schedule “Hourly”, next run {after['nextRunAt']}")

    # Delete both (the page asks first); the run stays in the export list.
    page.on("dialog", lambda dialog: dialog.accept())
    for name, row in (("Monthly report", monthly), ("Hourly", hourly)):
        schedule_id = row.get_attribute("data-id")
        row.get_by_role("button", name=f"Delete the schedule {name}").click()
        expect(row).to_have_count(0)
        assert server.json("GET", f"/api/v1/schedules/{schedule_id}", "alice")[0] == 404
    expect(page.get_by_text("No schedules yet.")).to_be_visible()
    expect(run.locator("td.origin")).to_have_text("Schedule “Hourly”")


if __name__ == "__main__":
    main()
