// The district's cases (duty officers and administrators): make one, add the range being played (the playback
// section's camera, day and times) to it, export it (each post's signed export inside one ZIP signed by the
// district) and download it. The district's API mirrors each item into a case at its post (its footage locked).
import { api, isStaff, Unauthorized } from "/ui/api.js";
import { addTexts, applyTexts, t } from "/ui/i18n.js";

addTexts({
  vi: { dc_add_range: "Thêm đoạn đang xem vào hồ sơ", dc_no_range: "Hãy chọn camera, ngày và khoảng thời gian ở phần Xem lại",
    dc_added: "Đã thêm vào hồ sơ «{title}»",
    dc_no_case: "Hãy tạo hoặc chọn một hồ sơ đang mở ở phần Hồ sơ vụ việc",
    dc_export_waiting: "Đang chờ đến hết khoảng thời gian trong hồ sơ" },
  en: { dc_add_range: "Add the range being played to the case", dc_no_range: "Choose a camera, a day and a time range under Playback",
    dc_added: "Added to the case “{title}”",
    dc_no_case: "Make or choose an open case under Cases",
    dc_export_waiting: "Waiting for the case's time ranges to end" },
});

const POLL_MS = 1000;
const $ = (selector) => document.querySelector(selector);
let cases = [];
const polling = new Set(); // cases whose export is being waited for

function cell(...content) {
  const td = document.createElement("td");
  td.append(...content);
  return td;
}

function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function exportCell(item) {
  const state = item.export.state;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "ghost";
  button.dataset.export = String(item.id);
  button.textContent = t("export_start");
  button.disabled = state === "queued" || state === "running";
  const parts = [button];
  if (state !== "none") {
    const said = document.createElement("span");
    said.className = state === "failed" ? "bad" : "muted";
    // waiting: an item ends a few seconds ahead (an event's range), and the posts are asked once it has
    const shown = state === "running" && item.export.waiting ? t("dc_export_waiting") : t(`export_${state}`);
    said.textContent = ` ${shown}${state === "failed" ? `: ${item.export.error}` : ""} `;
    parts.push(said);
  }
  if (state === "ready") {
    const link = document.createElement("a");
    link.href = item.export.download;
    link.download = `district-case-${item.id}.zip`;
    link.textContent = t("export_download", { size: megabytes(item.export.bytes) });
    parts.push(link);
  }
  return cell(...parts);
}

function show() {
  $("#cases tbody").replaceChildren(...cases.map((item) => {
    const tr = document.createElement("tr");
    tr.dataset.case = String(item.id);
    const posts = [...new Set(item.items.map((entry) => entry.station))].join(", ");
    tr.append(cell(`#${item.id} ${item.title}`), cell(posts), cell(String(item.items.length)),
      cell(t(item.status === "open" ? "case_open" : "case_closed")), exportCell(item));
    return tr;
  }));
  $("#no-cases").hidden = cases.length > 0;
  const picker = $("#add-range-form").case;
  const chosen = picker.value;
  picker.replaceChildren(...cases.filter((item) => item.status === "open")
    .map((item) => new Option(`#${item.id} ${item.title}`, String(item.id))));
  if (chosen) picker.value = chosen;
}

async function load() {
  cases = await api("/api/cases");
  show();
}

function failed(error) {
  if (error instanceof Unauthorized) return;
  $("#case-error").textContent = error.message;
}

async function create(event) {
  event.preventDefault();
  $("#case-error").textContent = "";
  const made = await api("/api/cases", { method: "POST", body: JSON.stringify({ title: $("#case-form").title.value }) });
  $("#case-form").reset();
  await load();
  $("#add-range-form").case.value = String(made.id);
}

// The playback section's choice: its camera (station/name), its day and its from / to times.
function playedRange() {
  const [station, ...name] = $("#day-form").camera.value.split("/");
  const day = $("#day-form").day.value;
  const { from, to } = $("#clip-form");
  if (!station || !day || !from.value || !to.value || to.value <= from.value) return null;
  return { station, camera: name.join("/"), start: `${day}T${from.value}`, end: `${day}T${to.value}` };
}

// One item into the case chosen in the add-range form: the range being played, or an event of the feed.
async function addItem(item) {
  $("#case-error").textContent = "";
  $("#case-said").textContent = "";
  const id = $("#add-range-form").case.value;
  if (!id) {
    $("#case-error").textContent = t("dc_no_case");
    return;
  }
  await api(`/api/cases/${id}/items`, { method: "POST", body: JSON.stringify(item) });
  await load();
  $("#case-said").textContent = t("dc_added", { title: cases.find((found) => String(found.id) === id)?.title ?? id });
}

async function addRange(event) {
  event.preventDefault();
  const range = playedRange();
  if (!range) {
    $("#case-error").textContent = t("dc_no_range");
    return;
  }
  await addItem(range);
}

async function addEvent(click) {
  const button = click.target.closest(".add-event");
  if (!button || button.disabled) return;
  const row = button.closest("tr");
  button.disabled = true; // once per click: a second one while the first is on its way adds nothing twice
  try {
    await addItem({ station: row.dataset.station, event: Number(row.dataset.event) });
  } finally {
    button.disabled = false;
  }
}

async function waitForExport(id) {
  if (polling.has(id)) return;
  polling.add(id);
  try {
    for (;;) {
      const state = await api(`/api/cases/${id}/export`);
      const found = cases.find((item) => item.id === id);
      if (found) found.export = state;
      show();
      if (state.state !== "queued" && state.state !== "running") return;
      await new Promise((done) => { setTimeout(done, POLL_MS); });
    }
  } finally {
    polling.delete(id);
  }
}

async function startExport(event) {
  const id = Number(event.target.dataset?.export);
  if (!id) return;
  $("#case-error").textContent = "";
  await api(`/api/cases/${id}/export`, { method: "POST" });
  await waitForExport(id);
}

async function begin() {
  const me = await api("/api/auth/me");
  $("#cases-section").hidden = !isStaff(me);
  $("#district").dataset.staff = String(isStaff(me)); // the feed's "add to the case" buttons
  if (isStaff(me)) await load();
}

// The district's page shows its main part once someone is logged in: the cases come with it.
new MutationObserver(() => {
  if (!$("#district").hidden) begin().catch(failed);
}).observe($("#district"), { attributes: true, attributeFilter: ["hidden"] });
$("#case-form").addEventListener("submit", (event) => create(event).catch(failed));
$("#add-range-form").addEventListener("submit", (event) => addRange(event).catch(failed));
$("#cases").addEventListener("click", (event) => startExport(event).catch(failed));
$("#events").addEventListener("click", (event) => addEvent(event).catch(failed));
$("#lang").addEventListener("click", () => { if (!$("#cases-section").hidden) show(); });
applyTexts($("#cases-section"));
if (!$("#district").hidden) begin().catch(failed);
