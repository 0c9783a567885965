// The export page: plain JavaScript against the export API under /api/v1, no build step.
// Credentials are the DEMO SIGN-IN (HTTP Basic), kept in this tab's sessionStorage only.
"use strict";

const API = "/api/v1";
const COLUMNS = ["membership_id", "user_id", "organization_id", "organization_name", "plan", "role", "status",
  "started_at", "ended_at", "renews_at", "amount", "currency", "seat_count", "cost_center"];
const DEFAULT_OFF = new Set(["seat_count", "cost_center"]);
const ACTIVE = new Set(["queued", "running", "retry_scheduled"]);
const STATE_LABELS = { queued: "Queued", running: "Running", retry_scheduled: "Retrying soon", succeeded: "Ready",
  failed: "Failed", cancelled: "Cancelled" };
let pollTimer = null;

const $ = (id) => document.getElementById(id);

function credentials() { return sessionStorage.getItem("basic"); }

async function api(path, options = {}) {
  const headers = Object.assign({ "X-Requested-With": "fetch", "Accept": "application/json" }, options.headers || {});
  if (credentials()) headers["Authorization"] = "Basic " + credentials();
  const response = await fetch(API + path, Object.assign({}, options, { headers }));
  if (response.status === 401) { signOut("Your sign-in was not accepted. Check the user name and password."); throw new Error("unauthenticated"); }
  return response;
}

async function problemText(response) {
  try { const problem = await response.json(); return problem.detail || problem.title || ("HTTP " + response.status); }
  catch { return "HTTP " + response.status; }
}

function signOut(message) {
  sessionStorage.removeItem("basic");
  sessionStorage.removeItem("user");
  if (pollTimer) { clearTimeout(pollTimer); pollTimer = null; }
  $("who").hidden = true;
  $("signin-section").hidden = false;
  $("request-section").hidden = true;
  $("exports-section").hidden = true;
  $("signin-error").textContent = message || "";
}

function showSignedIn() {
  $("who-name").textContent = sessionStorage.getItem("user");
  $("who").hidden = false;
  $("signin-section").hidden = true;
  $("request-section").hidden = false;
  $("exports-section").hidden = false;
  refresh();
}

async function signIn(event) {
  event.preventDefault();
  const user = $("username").value.trim();
  const encoded = btoa(unescape(encodeURIComponent(user + ":" + $("password").value)));
  sessionStorage.setItem("basic", encoded);
  sessionStorage.setItem("user", user);
  try {
    const response = await api("/exports?limit=1");
    if (!response.ok) { signOut(await problemText(response)); return; }
    $("password").value = "";
    showSignedIn();
  } catch (error) {
    if (error.message !== "unauthenticated") signOut("The server did not answer: " + error.message);
  }
}

async function requestExport(event) {
  event.preventDefault();
  const columns = [...document.querySelectorAll("#columns input:checked")].map((box) => box.value);
  const message = $("request-message");
  if (columns.length === 0) { message.textContent = "Choose at least one column."; return; }
  $("request-button").disabled = true;
  message.textContent = "Requesting…";
  try {
    const response = await api("/exports", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ format: $("format").value, columns }) });
    if (response.status === 202) {
      // 202 also answers with the caller's export already in progress, which the table shows.
      const job = await response.json();
      const shown = [...document.querySelectorAll("#exports tbody tr")].some((row) => row.dataset.id === job.id);
      message.textContent = shown
        ? "You already have an export in progress; it is shown below. Cancel it to start another."
        : "Export requested. It is prepared in the background; this page shows its progress.";
    } else if (response.status === 429) {
      const after = response.headers.get("Retry-After");
      message.textContent = "Too many exports requested. Try again" + (after ? " in " + after + " seconds." : " later.");
    } else {
      message.textContent = "The export could not be requested: " + await problemText(response);
    }
  } catch (error) {
    if (error.message !== "unauthenticated") message.textContent = "The server did not answer: " + error.message;
  } finally {
    $("request-button").disabled = false;
    refresh();
  }
}

function formatDate(text) {
  if (!text) return "—";
  return new Date(text).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function formatBytes(bytes) {
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KiB";
  return (bytes / 1024 / 1024).toFixed(1) + " MiB";
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function button(label, description, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.setAttribute("aria-label", description);
  b.addEventListener("click", onClick);
  return b;
}

function render(jobs) {
  const body = document.querySelector("#exports tbody");
  body.replaceChildren();
  $("exports-empty").hidden = jobs.length > 0;
  for (const job of jobs) {
    const row = document.createElement("tr");
    row.dataset.id = job.id;
    row.dataset.state = job.state;
    const requested = formatDate(job.createdAt);
    cell(row, requested);
    cell(row, job.format);
    const state = cell(row, job.expired ? "Expired" : (STATE_LABELS[job.state] || job.state), "state state-" + job.state);
    if (job.cancelRequested && ACTIVE.has(job.state)) state.textContent += " (stopping)";
    if (job.state === "retry_scheduled" && job.nextAttemptAt) state.textContent += " at " + formatDate(job.nextAttemptAt);
    if (job.failure) {
      const reason = document.createElement("span");
      reason.className = "reason";
      reason.textContent = job.failure.reason;
      state.appendChild(reason);
    }
    const rows = job.result ? job.result.rows : job.progress.rowsWritten;
    cell(row, rows.toLocaleString() + (job.result ? " (" + formatBytes(job.result.bytes) + ")" : ""), "num rows");
    cell(row, job.expired ? "Expired " + formatDate(job.expiresAt) : formatDate(job.expiresAt));
    const actions = cell(row, "");
    const what = job.format + " export requested " + requested;
    if (job.links.download) actions.appendChild(button("Download", "Download the " + what, () => download(job)));
    if (ACTIVE.has(job.state) && !job.cancelRequested) actions.appendChild(button("Cancel", "Cancel the " + what, () => cancel(job)));
    body.appendChild(row);
  }
}

async function refresh() {
  if (pollTimer) { clearTimeout(pollTimer); pollTimer = null; }
  if (!credentials()) return;
  let active = false;
  try {
    const response = await api("/exports?limit=20");
    if (!response.ok) throw new Error(await problemText(response));
    const page = await response.json();
    render(page.items);
    active = page.items.some((job) => ACTIVE.has(job.state));
    $("exports-error").textContent = "";
  } catch (error) {
    if (error.message === "unauthenticated") return;
    $("exports-error").textContent = "Could not load your exports: " + error.message;
    active = true;
  }
  pollTimer = setTimeout(refresh, active ? 1000 : 10000);
}

async function cancel(job) {
  try {
    const response = await api("/exports/" + encodeURIComponent(job.id), { method: "DELETE" });
    if (response.status !== 202 && response.status !== 204) $("exports-error").textContent = "Could not cancel: " + await problemText(response);
  } catch (error) {
    if (error.message !== "unauthenticated") $("exports-error").textContent = "Could not cancel: " + error.message;
  }
  refresh();
}

// The download route answers 302 to a short-lived signed link. A HEAD request follows it without
// reading the file; the browser then downloads the signed link itself (it needs no credentials).
async function download(job) {
  try {
    const response = await api(job.links.download.slice(API.length), { method: "HEAD" });
    if (!response.ok) { $("exports-error").textContent = "Could not download: " + (response.status === 410 ? "the file has expired." : "HTTP " + response.status); return; }
    const link = document.createElement("a");
    link.href = response.url;
    link.download = "";
    document.body.appendChild(link);
    link.click();
    link.remove();
  } catch (error) {
    if (error.message === "unauthenticated") return;
    // A link on another origin (S3) cannot be followed by a script: let the browser open the route.
    window.location.href = job.links.download;
  }
}

function setUp() {
  const fieldset = $("columns");
  for (const name of COLUMNS) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "columns";
    box.value = name;
    box.checked = !DEFAULT_OFF.has(name);
    label.append(box, " " + name);
    fieldset.appendChild(label);
  }
  $("signin").addEventListener("submit", signIn);
  $("request").addEventListener("submit", requestExport);
  $("signout").addEventListener("click", () => signOut(""));
  if (credentials()) showSignedIn();
}

document.addEventListener("DOMContentLoaded", setUp);
