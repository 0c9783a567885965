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
// Whether the server offers schedules (a backend without a schedule store answers /schedules with 404).
let schedulesOffered = false;
let shownSchedules = "";
// The soonest next run of an active schedule (ms since the epoch), so the list is polled when it is due.
let soonestRun = Infinity;

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
  $("schedules-section").hidden = true;
  schedulesOffered = false;
  shownSchedules = "";
  soonestRun = Infinity;
  $("signin-error").textContent = message || "";
}

function showSignedIn() {
  $("who-name").textContent = sessionStorage.getItem("user");
  $("who").hidden = false;
  $("signin-section").hidden = true;
  $("request-section").hidden = false;
  $("exports-section").hidden = false;
  loadSchedulesFirst();
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
    if (job.schedule) {
      row.dataset.schedule = job.schedule.id;
      cell(row, "Schedule “" + job.schedule.name + "”", "origin");
    } else {
      cell(row, "You", "origin");
    }
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
    const what = job.format + " export " + (job.schedule ? "of schedule " + job.schedule.name + ", run " : "requested ") + requested;
    if (job.links.download) actions.appendChild(button("Download", "Download the " + what, () => download(job)));
    if (ACTIVE.has(job.state) && !job.cancelRequested) actions.appendChild(button("Cancel", "Cancel the " + what, () => cancel(job)));
    if ((job.state === "succeeded" || job.state === "failed") && !job.expired) {
      actions.appendChild(button("Delete", "Delete the " + what, () => deleteExport(job)));
    }
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
  // A schedule's run appears in the list above when the scheduler fires it; its next run moves on then.
  if (schedulesOffered && !(await refreshSchedules())) return;
  if (!credentials()) return;
  const untilRun = soonestRun - Date.now();
  if (schedulesOffered && untilRun < 15000 && untilRun > -60000) active = true;  // a run is (about to be) made
  if (pollTimer) clearTimeout(pollTimer);  // another refresh may have started meanwhile
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

// DELETE of a finished export deletes its file now; the e-mailed address answers 410 from then on.
async function deleteExport(job) {
  if (!window.confirm("Delete this export? Its file is removed now and its download link stops working.")) return;
  try {
    const response = await api("/exports/" + encodeURIComponent(job.id), { method: "DELETE" });
    if (response.status !== 204) $("exports-error").textContent = "Could not delete: " + await problemText(response);
  } catch (error) {
    if (error.message !== "unauthenticated") $("exports-error").textContent = "Could not delete: " + error.message;
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

// Schedules: a recurrence (cron or interval) in a time zone, making one export per run.

function describeInterval(seconds) {
  for (const [unit, size] of [["day", 86400], ["hour", 3600], ["minute", 60]]) {
    if (seconds % size === 0) { const n = seconds / size; return "every " + (n === 1 ? unit : n + " " + unit + "s"); }
  }
  return "every " + seconds + " seconds";
}

// A date on the schedule's own wall clock, with the zone named: cron fields are read there.
function formatInZone(text, timeZone) {
  if (!text) return "—";
  try {
    // (dateStyle and timeStyle cannot be combined with timeZoneName: the fields are named one by one.)
    return new Date(text).toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "numeric",
      minute: "2-digit", timeZone, timeZoneName: "short" });
  } catch {
    return formatDate(text);
  }
}

async function loadSchedulesFirst() {
  try {
    const response = await api("/schedules?limit=100");
    if (response.status === 404) return;  // this backend keeps no schedules: the section stays hidden
    schedulesOffered = true;
    $("schedules-section").hidden = false;
    await showSchedules(response);
  } catch (error) {
    if (error.message !== "unauthenticated") $("schedules-error").textContent = "Could not load your schedules: " + error.message;
  }
}

// Reloads the list; false when the sign-in was refused.
async function refreshSchedules() {
  try {
    await showSchedules(await api("/schedules?limit=100"));
  } catch (error) {
    if (error.message === "unauthenticated") return false;
    $("schedules-error").textContent = "Could not load your schedules: " + error.message;
  }
  return true;
}

async function showSchedules(response) {
  if (!response.ok) throw new Error(await problemText(response));
  const page = await response.json();
  $("schedules-error").textContent = "";
  // Rebuilt only when something changed, so a button is not replaced under the pointer.
  soonestRun = Math.min(Infinity, ...page.items.filter((s) => !s.paused && s.nextRunAt).map((s) => Date.parse(s.nextRunAt)));
  const text = JSON.stringify(page.items);
  if (text === shownSchedules) return;
  shownSchedules = text;
  renderSchedules(page.items);
}

function renderSchedules(schedules) {
  const body = document.querySelector("#schedules tbody");
  body.replaceChildren();
  $("schedules-empty").hidden = schedules.length > 0;
  for (const schedule of schedules) {
    const row = document.createElement("tr");
    row.dataset.id = schedule.id;
    row.dataset.paused = String(schedule.paused);
    row.dataset.nextRun = schedule.nextRunAt || "";
    cell(row, schedule.name, "name");
    const repeats = schedule.cron !== null ? "cron " + schedule.cron : describeInterval(schedule.everySeconds);
    cell(row, repeats + " (" + schedule.timeZone + ")", "repeats");
    cell(row, schedule.format);
    let next;
    if (schedule.paused) next = "Paused";
    else if (schedule.nextRunAt) next = formatInZone(schedule.nextRunAt, schedule.timeZone);
    else next = "Ended";
    cell(row, next, "next-run" + (schedule.paused ? " paused" : ""));
    const runs = cell(row, schedule.runCount === 1 ? "1 run" : schedule.runCount + " runs", "num runs");
    if (schedule.lastRunAt) {
      const last = document.createElement("span");
      last.className = "reason-plain";
      last.textContent = "last " + formatInZone(schedule.lastRunAt, schedule.timeZone);
      runs.appendChild(last);
    }
    if (schedule.skippedCount > 0) runs.append(", " + schedule.skippedCount + " skipped");
    const actions = cell(row, "");
    const what = "schedule " + schedule.name;
    if (schedule.paused) actions.appendChild(button("Resume", "Resume the " + what, () => setPaused(schedule, false)));
    else actions.appendChild(button("Pause", "Pause the " + what, () => setPaused(schedule, true)));
    actions.appendChild(button("Delete", "Delete the " + what, () => deleteSchedule(schedule)));
    body.appendChild(row);
  }
}

function scheduleKind() { return document.querySelector("#schedule-kind input:checked").value; }

function showScheduleKind() {
  const cron = scheduleKind() === "cron";
  $("schedule-cron").disabled = !cron;
  $("schedule-every").disabled = cron;
  $("schedule-unit").disabled = cron;
  $("schedule-now").disabled = cron;
}

// The form field a problem's invalid-params entry names.
const SCHEDULE_FIELDS = { name: "schedule-name", cron: "schedule-cron", everySeconds: "schedule-every", timeZone: "schedule-zone",
  format: "schedule-format", catchUp: "schedule-catch-up" };

function clearScheduleError() {
  $("schedule-error").textContent = "";
  for (const id of Object.values(SCHEDULE_FIELDS)) $(id).removeAttribute("aria-invalid");
}

async function createSchedule(event) {
  event.preventDefault();
  clearScheduleError();
  const message = $("schedule-message");
  message.textContent = "";
  const body = { name: $("schedule-name").value.trim() || "Scheduled export", timeZone: $("schedule-zone").value.trim(),
    format: $("schedule-format").value, catchUp: $("schedule-catch-up").value };
  if (scheduleKind() === "cron") {
    body.cron = $("schedule-cron").value.trim();
  } else {
    const every = Number($("schedule-every").value);
    if (!Number.isInteger(every) || every < 1) {
      $("schedule-every").setAttribute("aria-invalid", "true");
      $("schedule-error").textContent = "Give the interval as a whole number.";
      return;
    }
    body.everySeconds = every * Number($("schedule-unit").value);
    // Intervals count from startsAt (whole seconds); the next whole second makes it the first run.
    if ($("schedule-now").checked) body.startsAt = new Date(Math.ceil(Date.now() / 1000) * 1000).toISOString().replace(".000Z", "Z");
  }
  $("schedule-button").disabled = true;
  try {
    const response = await api("/schedules", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (response.status === 201) {
      const schedule = await response.json();
      message.textContent = "Schedule “" + schedule.name + "” created. Next run: " + formatInZone(schedule.nextRunAt, schedule.timeZone) + ".";
      refresh();  // the schedules, and the exports list, which an interval's first run joins now
      return;
    }
    // The API's own words, next to the form, with the field it names marked.
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON */ }
    const field = problem && problem["invalid-params"] && problem["invalid-params"][0] && problem["invalid-params"][0].name;
    if (field && SCHEDULE_FIELDS[field]) $(SCHEDULE_FIELDS[field]).setAttribute("aria-invalid", "true");
    $("schedule-error").textContent = "The schedule could not be created: "
      + ((problem && (problem.detail || problem.title)) || ("HTTP " + response.status));
  } catch (error) {
    if (error.message !== "unauthenticated") $("schedule-error").textContent = "The server did not answer: " + error.message;
  } finally {
    $("schedule-button").disabled = false;
  }
}

async function setPaused(schedule, paused) {
  try {
    const response = await api("/schedules/" + encodeURIComponent(schedule.id) + (paused ? "/pause" : "/resume"), { method: "POST" });
    if (!response.ok) $("schedules-error").textContent = "Could not " + (paused ? "pause" : "resume") + ": " + await problemText(response);
  } catch (error) {
    if (error.message !== "unauthenticated") $("schedules-error").textContent = "Could not " + (paused ? "pause" : "resume") + ": " + error.message;
  }
  refreshSchedules();
}

async function deleteSchedule(schedule) {
  if (!window.confirm("Delete the schedule “" + schedule.name + "”? Its past exports stay.")) return;
  try {
    const response = await api("/schedules/" + encodeURIComponent(schedule.id), { method: "DELETE" });
    if (response.status !== 204) $("schedules-error").textContent = "Could not delete: " + await problemText(response);
  } catch (error) {
    if (error.message !== "unauthenticated") $("schedules-error").textContent = "Could not delete: " + error.message;
  }
  refreshSchedules();
}

function setUpScheduleForm() {
  const zones = $("schedule-zones");
  const names = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : ["UTC"];
  for (const name of names) {
    const option = document.createElement("option");
    option.value = name;
    zones.appendChild(option);
  }
  // The user's own zone: a cron expression is read on their wall clock.
  $("schedule-zone").value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  for (const radio of document.querySelectorAll("#schedule-kind input")) radio.addEventListener("change", showScheduleKind);
  showScheduleKind();
  $("schedule").addEventListener("submit", createSchedule);
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
  setUpScheduleForm();
  if (credentials()) showSignedIn();
}

document.addEventListener("DOMContentLoaded", setUp);
