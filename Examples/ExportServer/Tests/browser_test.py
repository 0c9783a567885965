#!/usr/bin/env python3
"""Real-browser test: headless Chromium (Debian's, driven by Playwright) signs in, requests an export,
watches it run, downloads the file and parses it with csv; cancels a running export; reads a failure's
reason; checks that bob cannot see alice's export, downloads included. Saves a screenshot to
Docs/images/export-server.png (SCREENSHOT_PATH overrides).

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

from server import PACKAGE, Server

try:
    from playwright.sync_api import expect, sync_playwright
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
    links = re.findall(r"https?://\S+/api/v1/downloads/\S+", text)
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
                "--page-size", "500", "--page-delay-ms", "80", "--heartbeat-ms", "500") as server, sync_playwright() as p:
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

    # The e-mail's link works when clicked, in a browser that never signed in, and gives the same file.
    link = email_link(server, alice_id)
    stranger = browser.new_context(accept_downloads=True).new_page()
    stranger.set_content(f'<a href="{html.escape(link)}">Download your export</a>')
    with stranger.expect_download() as info:
        stranger.get_by_role("link", name="Download your export").click()
    mailed = os.path.join(tempfile.mkdtemp(), info.value.suggested_filename)
    info.value.save_as(mailed)
    assert open(mailed, "rb").read() == open(path, "rb").read(), "the e-mailed link gave another file"
    print(f"e-mailed link {link.split('?')[0][:60]}… downloads the same file")

    # A second export, JSON Lines: screenshot while it runs beside the finished one, then cancel it.
    page.get_by_label("Format").select_option("jsonl")
    page.get_by_role("button", name="Request export").click()
    running = page.locator("#exports tbody tr").first
    expect(running).to_have_attribute("data-state", "running", timeout=30_000)
    expect(running.locator("td.rows")).not_to_have_text("0", timeout=30_000)
    os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
    page.screenshot(path=SCREENSHOT, full_page=True)
    print(f"screenshot: {os.path.normpath(SCREENSHOT)}")
    # Asking again while one runs gives that one back (the API's 202 for an active export), said so.
    page.get_by_role("button", name="Request export").click()
    expect(page.get_by_role("status")).to_contain_text("already have an export in progress")
    expect(page.locator("#exports tbody tr")).to_have_count(2)
    running.get_by_role("button", name=re.compile("^Cancel the jsonl export")).click()
    expect(running).to_have_attribute("data-state", "cancelled", timeout=30_000)
    expect(running.get_by_role("button", name=re.compile("^Download"))).to_have_count(0)

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


if __name__ == "__main__":
    main()
