// The administrators' camera page (#/cameras): status and storage of every camera; add (by hand or found on the
// network over ONVIF), change, draw its detection areas (#/areas), enable, remove.
import { api } from "./api.js";
import { setUpDiscovery } from "./discover.js";
import { displayName } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { duration } from "./timefmt.js";

const STATUS_POLL_MS = 3000;
const COLUMNS = ["cam_title", "cam_location", "status", "record_url", "storage"]; // labels of a row's cells on a phone
const ACTIONS = ["edit", "areas", "toggle", "remove"];

export function size(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let unit = 0;
  while (bytes >= 1000 && unit < units.length - 1) {
    bytes /= 1000;
    unit += 1;
  }
  return `${bytes.toFixed(unit && bytes < 10 ? 1 : 0)} ${units[unit]}`;
}

export function line(text, className = "") {
  const element = document.createElement("div");
  element.className = className;
  element.textContent = text;
  return element;
}

function newRow(name) {
  const row = document.createElement("tr");
  row.dataset.camera = name;
  for (const key of COLUMNS) {
    const cell = row.insertCell();
    cell.dataset.label = t(key);
  }
  const actions = row.insertCell();
  actions.className = "actions";
  for (const action of ACTIONS) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `ghost ${action}`;
    button.dataset.action = action;
    button.textContent = t(action);
    actions.append(button);
  }
  return row;
}

function fillRow(row, camera, usage) {
  const [who, where, state, url, kept] = row.cells;
  const status = camera.enabled ? camera.status : "disabled";
  row.dataset.status = status;
  who.replaceChildren(line(displayName(camera), "strong"), line(camera.name, "muted"));
  where.replaceChildren(line(camera.location));
  if (camera.area) where.append(line(`${t("area")}: ${camera.area}`, "muted"));
  state.replaceChildren(line(t(status), `state ${status}`));
  if (camera.enabled && status !== "online" && camera.last_error) state.append(line(camera.last_error, "muted"));
  if (camera.enabled && status !== "online" && camera.offline_cause && camera.offline_cause !== camera.last_error) {
    state.append(line(`${t("offline_cause")}: ${camera.offline_cause}`, "muted"));
  }
  if (camera.recording_error) state.append(line(`${t("recording_error")}: ${camera.recording_error}`, "error"));
  url.replaceChildren(line(camera.record_url, "url"));
  if (camera.detect_url) url.append(line(camera.detect_url, "url muted"));
  kept.replaceChildren();
  if (usage) {
    kept.append(line(size(usage.bytes)), line(`${t("kept", { days: duration(usage.days_kept) })}, ` +
      t("recorded_for", { days: duration(usage.recorded_days) }), "muted"));
    if (usage.locked_bytes) kept.append(line(t("locked_bytes", { size: size(usage.locked_bytes) }), "locked"));
  }
  row.querySelector(".toggle").textContent = t(camera.enabled ? "disable" : "enable");
}

export async function showCameras(view, me) {
  if (me.role !== "admin") {
    view.replaceChildren(line(t("admins_only"), "notice"));
    return () => {};
  }
  view.replaceChildren(document.getElementById("cameras-template").content.cloneNode(true));
  applyTexts(view);
  const root = view.querySelector(".admin");
  const body = root.querySelector("#camera-list tbody");
  const form = root.querySelector("#camera-form");
  const fields = form.elements;
  const error = form.querySelector(".error");
  const rows = new Map(); // name -> { row, camera }
  let editing = null; // the camera the form changes; null while it adds one

  const refresh = async () => {
    const [cameras, storage] = await Promise.all([api("/api/cameras"), api("/api/storage")]);
    const usage = new Map(storage.cameras.map((entry) => [entry.name, entry]));
    root.querySelector(".disk").textContent = t("free_space",
      { free: size(storage.free_bytes), total: size(storage.total_bytes) })
      + (storage.locked_bytes ? `, ${t("locked_bytes", { size: size(storage.locked_bytes) })}` : "");
    // forward steps of the station's clock that footage was stamped before: its times need the step added
    root.querySelector(".clock-steps").replaceChildren(...storage.clock_steps.map((step) => {
      const note = document.createElement("p");
      note.textContent = t("clock_stepped", { by: duration(step.seconds / 86400), before: step.before, after: step.after });
      return note;
    }));
    const names = new Set(cameras.map((camera) => camera.name));
    for (const [name, entry] of rows) {
      if (!names.has(name)) {
        entry.row.remove();
        rows.delete(name);
      }
    }
    for (const camera of cameras) {
      if (!rows.has(camera.name)) {
        rows.set(camera.name, { row: newRow(camera.name) });
        body.append(rows.get(camera.name).row);
      }
      rows.get(camera.name).camera = camera;
      fillRow(rows.get(camera.name).row, camera, usage.get(camera.name));
    }
  };

  const reset = () => {
    editing = null;
    form.reset();
    fields.name.readOnly = false;
    fields.record_url.required = true;
    fields.record_url.placeholder = "rtsp://user:password@10.0.0.21:554/...";
    fields.detect_url.placeholder = "";
    form.querySelector(".form-title").textContent = t("add_camera");
    form.querySelector(".save").textContent = t("add");
    form.querySelector(".cancel").hidden = true;
  };

  const edit = (camera) => {
    editing = camera;
    fields.name.value = camera.name;
    fields.name.readOnly = true;
    fields.title.value = camera.title;
    fields.location.value = camera.location;
    fields.area.value = camera.area;
    fields.enabled.checked = camera.enabled;
    // URLs come back redacted: the fields start empty, and empty keeps the camera's current URL
    fields.record_url.value = "";
    fields.record_url.required = false;
    fields.record_url.placeholder = t("keep_url") + camera.record_url;
    fields.detect_url.value = "";
    fields.detect_url.placeholder = camera.detect_url ? t("keep_url") + camera.detect_url : "";
    form.querySelector(".form-title").textContent = `${t("edit_camera")} ${camera.name}`;
    form.querySelector(".save").textContent = t("save");
    form.querySelector(".cancel").hidden = false;
    error.textContent = "";
    fields.title.focus();
  };

  form.querySelector(".cancel").addEventListener("click", reset);
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const values = { title: fields.title.value.trim(), location: fields.location.value.trim(),
      area: fields.area.value.trim(),
      enabled: fields.enabled.checked };
    for (const key of ["record_url", "detect_url"]) {
      if (fields[key].value.trim()) values[key] = fields[key].value.trim();
    }
    try {
      if (editing) {
        const changed = Object.fromEntries(Object.entries(values).filter(([key, value]) => value !== editing[key]));
        if (Object.keys(changed).length) {
          await api(`/api/cameras/${encodeURIComponent(editing.name)}`, { method: "PUT", body: JSON.stringify(changed) });
        }
      } else {
        await api("/api/cameras", { method: "POST", body: JSON.stringify({ name: fields.name.value.trim(), ...values }) });
      }
    } catch (failure) {
      error.textContent = `${t(editing ? "save_failed" : "add_failed")}: ${failure.message}`;
      return;
    }
    error.textContent = "";
    reset();
    await refresh();
  });

  body.addEventListener("click", async (click) => {
    const button = click.target.closest("button");
    if (!button) return;
    const { camera } = rows.get(button.closest("tr").dataset.camera);
    const path = `/api/cameras/${encodeURIComponent(camera.name)}`;
    const action = button.dataset.action;
    if (action === "edit") {
      edit(camera);
      return;
    }
    if (action === "areas") {
      location.hash = `#/areas?camera=${encodeURIComponent(camera.name)}`;
      return;
    }
    if (action === "remove" && !confirm(t("confirm_remove", { name: displayName(camera) }))) return;
    try {
      if (action === "toggle") await api(path, { method: "PUT", body: JSON.stringify({ enabled: !camera.enabled }) });
      else await api(path, { method: "DELETE" });
      error.textContent = "";
      if (editing?.name === camera.name) reset();
    } catch (failure) {
      error.textContent = `${t(action === "toggle" ? "save_failed" : "remove_failed")}: ${failure.message}`;
    }
    await refresh();
  });

  setUpDiscovery(root, refresh);
  await refresh();
  const poll = setInterval(() => refresh().catch(() => {}), STATUS_POLL_MS);
  return () => clearInterval(poll);
}
