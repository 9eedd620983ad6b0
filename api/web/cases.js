// Cases (duty officers and administrators): the list (#/cases) and one case (#/case/ID): its title and note,
// its items (camera and range; played, removed), closed and reopened (an open case locks its footage against
// retention), deleted, and exported: the signed ZIP built in the background with its progress, then its link,
// with the station's key fingerprint to read out to whoever checks it.
import { api, isStaff } from "./api.js";
import { line, size } from "./cameras.js";
import { displayNames } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { playbackHash } from "./eventlist.js";
import { clock, dateTime, dayStart } from "./timefmt.js";

const EXPORT_POLL_MS = 1000;
const PLAY_AT_MOST = 9; // cameras played together

function staffOnly(view, me) {
  if (isStaff(me)) return false;
  view.replaceChildren(line(t("staff_only"), "notice"));
  return true;
}

function exportState(found) {
  const state = found.export?.state || "none";
  if (state === "running" && found.export.waiting) return t("export_waiting");
  if (state === "running" || state === "queued") return `${t(`export_${state}`)} ${Math.round((found.export.progress || 0) * 100)} %`;
  return t(`export_${state}`);
}

function caseRow(found) {
  const row = document.createElement("tr");
  row.dataset.case = found.id;
  const title = document.createElement("a");
  title.href = `#/case/${found.id}`;
  title.textContent = found.title;
  const cells = [[title, line(found.note, "muted")], [line(t(`case_${found.status}`), `state ${found.status}`)],
    [line(String(found.items.length))], [line(exportState(found))], [line(found.updated.slice(0, 16).replace("T", " "))]];
  for (const [index, content] of cells.entries()) {
    const cell = row.insertCell();
    cell.dataset.label = t(["case_title_column", "status", "items", "export", "updated"][index]);
    cell.append(...content);
  }
  return row;
}

export async function showCases(view, me) {
  if (staffOnly(view, me)) return () => {};
  view.replaceChildren(document.getElementById("cases-template").content.cloneNode(true));
  applyTexts(view);
  const filter = view.querySelector(".status-filter");
  filter.replaceChildren(new Option(t("all"), ""), new Option(t("case_open"), "open"), new Option(t("case_closed"), "closed"));
  const body = view.querySelector(".case-list tbody");
  const refresh = async () => {
    const found = await api(`/api/cases${filter.value ? `?status=${filter.value}` : ""}`);
    body.replaceChildren(...found.map(caseRow));
    view.querySelector(".empty").hidden = found.length > 0;
  };
  filter.addEventListener("change", refresh);
  const form = view.querySelector(".new-case");
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    try {
      const made = await api("/api/cases", { method: "POST", body: JSON.stringify({
        title: form.elements.title.value.trim(), note: form.elements.note.value }) });
      location.hash = `#/case/${made.id}`;
    } catch (failure) {
      form.querySelector(".error").textContent = failure.message;
    }
  });
  await refresh();
  return () => {};
}

function itemRow(item, names, onRemove) {
  const row = document.createElement("tr");
  row.dataset.item = item.id;
  row.dataset.camera = item.camera;
  const play = document.createElement("a");
  play.href = playbackHash([item.camera], item.start_ms);
  play.className = "play-item";
  const sameDay = dayStart(item.start_ms) === dayStart(item.end_ms - 1);
  play.textContent = `${dateTime(item.start_ms)} – ${sameDay ? clock(item.end_ms) : dateTime(item.end_ms)}`;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "ghost remove";
  remove.textContent = t("remove");
  remove.addEventListener("click", onRemove);
  const from = item.event ? t("from_event", { id: item.event }) : item.bookmark ? t("from_bookmark", { id: item.bookmark }) : "";
  const cells = [[line(names.get(item.camera) || item.camera, "strong"), line(item.camera, "muted")],
    [play, line(`${Math.round((item.end_ms - item.start_ms) / 1000)} ${t("seconds")}`, "muted")],
    [line(item.note), line(from, "muted")], [line(item.added_by || ""), line(item.added.slice(0, 16).replace("T", " "), "muted")],
    [remove]];
  for (const [index, content] of cells.entries()) {
    const cell = row.insertCell();
    if (index < 4) cell.dataset.label = t(["camera", "range", "item_note_column", "added_by"][index]);
    else cell.className = "actions";
    cell.append(...content);
  }
  return row;
}

// The export's state, polled while it is built; the link once it is ready.
function showExport(section, found, state) {
  const progress = section.querySelector(".export-progress");
  const link = section.querySelector(".export-download");
  const building = state.state === "queued" || state.state === "running";
  progress.hidden = !building;
  progress.value = state.progress || 0;
  section.querySelector(".export-state").textContent = state.state === "failed"
    ? `${t("export_failed")}: ${state.error}` : exportState({ export: state });
  link.hidden = state.state !== "ready";
  if (state.state === "ready") {
    link.href = state.download;
    link.textContent = t("export_download", { size: size(state.bytes || 0) });
  }
  section.querySelector(".export-start").disabled = building || !found.items.length;
  section.querySelector(".export-start").textContent = t(state.state === "ready" ? "export_again" : "export_start");
  section.dataset.state = state.state;
  return building;
}

export async function showCase(view, me, id) {
  if (staffOnly(view, me)) return () => {};
  view.replaceChildren(document.getElementById("case-template").content.cloneNode(true));
  applyTexts(view);
  const root = view.querySelector(".case-page");
  const form = root.querySelector(".case-edit");
  const error = form.querySelector(".error");
  const section = root.querySelector(".case-export");
  const [cameras, station] = await Promise.all([api("/api/cameras"), api("/api/station")]);
  const names = displayNames(cameras);
  const fingerprint = document.createElement("code");
  fingerprint.textContent = station.key_fingerprint;
  section.querySelector(".fingerprint").replaceChildren(`${t("key_fingerprint")} `, fingerprint);
  let found = null;
  let poll = 0;

  const watchExport = async () => {
    clearTimeout(poll);
    const state = await api(`/api/cases/${id}/export`);
    if (showExport(section, found, state)) poll = setTimeout(() => watchExport().catch(() => {}), EXPORT_POLL_MS);
  };
  const fail = (failure) => { error.textContent = failure.message; };
  const render = (current) => {
    found = current;
    root.dataset.status = found.status;
    root.querySelector(".case-name").textContent = `${found.title} (#${found.id})`;
    root.querySelector(".case-status").textContent = t(`case_${found.status}`);
    root.querySelector(".case-status").className = `case-status state ${found.status}`;
    root.querySelector(".lock-note").textContent = t(found.locked ? "case_locked" : "case_unlocked");
    const held = found.district_case != null; // changed at the district server alone (the API answers 409)
    root.dataset.held = held;
    const districtNote = root.querySelector(".district-note");
    districtNote.hidden = !held;
    districtNote.textContent = held ? t("case_held_for_district", { n: found.district_case }) : "";
    form.elements.title.value = found.title;
    form.elements.note.value = found.note;
    form.elements.title.disabled = form.elements.note.disabled = held;
    form.querySelector(".toggle-status").textContent = t(found.status === "open" ? "close_case" : "reopen_case");
    // what leaves an open case is no longer kept from retention: asked first, as the case's deletion is
    root.querySelector(".case-items tbody").replaceChildren(...found.items.map((item) => itemRow(item, names, () => {
      if (found.status === "open" && !confirm(t("confirm_remove_item", { camera: names.get(item.camera) || item.camera,
        range: dateTime(item.start_ms) }))) return;
      api(`/api/cases/${id}/items/${item.id}`, { method: "DELETE" }).then(load).catch(fail);
    })));
    root.querySelector(".no-items").hidden = found.items.length > 0;
    const shown = [...new Set(found.items.map((item) => item.camera))].slice(0, PLAY_AT_MOST);
    const playAll = root.querySelector(".play-all");
    playAll.hidden = !shown.length;
    if (shown.length) playAll.href = playbackHash(shown, Math.min(...found.items.map((item) => item.start_ms)));
    showExport(section, found, found.export);
  };
  const load = async () => {
    render(await api(`/api/cases/${id}`));
    await watchExport();
  };
  const change = (body) => api(`/api/cases/${id}`, { method: "PATCH", body: JSON.stringify(body) })
    .then(render).then(watchExport).then(() => { error.textContent = ""; }).catch(fail);

  form.addEventListener("submit", (submit) => {
    submit.preventDefault();
    change({ title: form.elements.title.value.trim(), note: form.elements.note.value });
  });
  form.querySelector(".toggle-status").addEventListener("click", () => {
    if (found.status === "open" && !confirm(t("confirm_close_case", { title: found.title }))) return;
    change({ status: found.status === "open" ? "closed" : "open" });
  });
  form.querySelector(".delete-case").addEventListener("click", async () => {
    if (!confirm(t("confirm_delete_case", { title: found.title }))) return;
    try {
      await api(`/api/cases/${id}`, { method: "DELETE" });
      location.hash = "#/cases";
    } catch (failure) {
      fail(failure);
    }
  });
  section.querySelector(".export-start").addEventListener("click", async () => {
    try {
      showExport(section, found, await api(`/api/cases/${id}/export`, { method: "POST" }));
      await watchExport();
    } catch (failure) {
      section.querySelector(".export-state").textContent = failure.message;
    }
  });
  try {
    await load();
  } catch (failure) {
    view.replaceChildren(line(failure.message, "notice"));
  }
  return () => clearTimeout(poll);
}
