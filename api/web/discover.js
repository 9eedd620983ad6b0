// ONVIF cameras on the station's network (#/cameras, admins): find them with their streams, add one in one step.
import { api } from "./api.js";
import { t } from "./i18n.js";

const REASONS = new Set(["login", "timeout", "not_onvif", "unreachable", "no_login"]); // worded in both languages
const COLUMNS = ["found_camera", "streams", "cam_name", "cam_title"]; // labels of a row's cells on a phone

// A camera id (lowercase letters, digits, - and _) from the name the installer gave the camera.
function suggestedName(camera) {
  return (camera.name || camera.model || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d")
    .toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+|-+$/g, "").slice(0, 63);
}

function text(content, className = "") {
  const element = document.createElement("div");
  element.className = className;
  element.textContent = content;
  return element;
}

function input(name, value) {
  const element = document.createElement("input");
  element.name = name;
  element.value = value;
  element.autocomplete = "off";
  return element;
}

function stream(key, url, resolution) {
  const line = text("", "url");
  line.append(text(t(key), "muted"), document.createTextNode(`${url} (${resolution})`));
  return line;
}

function foundRow(camera) {
  const row = document.createElement("tr");
  row.dataset.device = camera.device;
  const [who, streams, name, title] = COLUMNS.map((key) => {
    const cell = row.insertCell();
    cell.dataset.label = t(key);
    return cell;
  });
  who.append(text(camera.name || camera.model || camera.device, "strong"),
    text([camera.maker, camera.model || camera.hardware].filter(Boolean).join(" "), "muted"),
    text(camera.device, "url muted"));
  const actions = row.insertCell();
  actions.className = "actions";
  if (camera.error) {
    streams.append(text(REASONS.has(camera.reason) ? t(`reason_${camera.reason}`) : camera.error, "error"));
    return row;
  }
  streams.append(stream("main_stream", camera.main_url, camera.resolution));
  if (camera.sub_url) streams.append(stream("sub_stream", camera.sub_url, camera.sub_resolution));
  name.append(input("name", suggestedName(camera)));
  title.append(input("title", camera.name));
  const add = document.createElement("button");
  add.type = "button";
  add.className = "add";
  add.textContent = t("add");
  actions.append(add, text("", "error"));
  return row;
}

// `onAdded` runs after a camera was added (the page lists it).
export function setUpDiscovery(root, onAdded) {
  const form = root.querySelector("#discover-form");
  const fields = form.elements;
  const find = form.querySelector(".find");
  const status = form.querySelector(".status");
  const error = form.querySelector(".error");
  const table = root.querySelector("table.found");
  const body = table.querySelector("tbody");
  let login = null; // the user name and password the listed cameras were read with

  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    login = { user: fields.user.value.trim(), password: fields.password.value };
    const ask = { ...login, ...(fields.address.value.trim() && { address: fields.address.value.trim() }) };
    find.disabled = true;
    status.textContent = t("searching");
    error.textContent = "";
    try {
      const found = await api("/api/discover", { method: "POST", body: JSON.stringify(ask) });
      body.replaceChildren(...found.map(foundRow));
      table.hidden = found.length === 0;
      status.textContent = found.length ? t("found_some", { count: found.length }) : t("found_none");
    } catch (failure) {
      status.textContent = "";
      error.textContent = `${t("discover_failed")}: ${failure.message}`;
    } finally {
      find.disabled = false;
    }
  });

  body.addEventListener("click", async (click) => {
    const button = click.target.closest("button.add");
    if (!button) return;
    const row = button.closest("tr");
    const problem = row.querySelector(".actions .error");
    const camera = { device: row.dataset.device, ...login, name: row.querySelector("input[name=name]").value.trim(),
      title: row.querySelector("input[name=title]").value.trim() };
    button.disabled = true;
    try {
      await api("/api/discover/add", { method: "POST", body: JSON.stringify(camera) });
    } catch (failure) {
      problem.textContent = `${t("add_failed")}: ${failure.message}`;
      button.disabled = false;
      return;
    }
    problem.textContent = "";
    row.dataset.added = "true";
    button.textContent = t("added");
    await onAdded();
  });
}
