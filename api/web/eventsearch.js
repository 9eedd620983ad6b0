// The events page (#/events): events found by camera, type and time (and whether anyone acknowledged them);
// each one plays its footage when clicked, and operators acknowledge it there with a note or add it to a case.
import { addToCase } from "./addtocase.js";
import { api, isStaff } from "./api.js";
import { eventItem, eventLabel, showAck } from "./eventlist.js";
import { displayName, displayNames } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { EVENT_TYPES } from "./timeline.js";
import { localInput, parseTyped } from "./timefmt.js";

const DAY_MS = 86400000;
const FOUND_AT_MOST = 500;

function caseButton(event, cameraName) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "ghost add-to-case";
  button.textContent = t("add_to_case");
  button.addEventListener("click", (click) => {
    click.stopPropagation(); // inside a list item that plays on click
    addToCase({ event: event.id, label: eventLabel(event, cameraName) });
  });
  return button;
}

export async function showEventSearch(view, me) {
  view.replaceChildren(document.getElementById("events-template").content.cloneNode(true));
  applyTexts(view);
  const form = view.querySelector(".event-filter");
  const list = view.querySelector(".event-list");
  const error = view.querySelector(".error");
  const cameras = await api("/api/cameras");
  const names = displayNames(cameras);
  const fields = form.elements;
  fields.camera.replaceChildren(new Option(t("all"), ""), ...cameras.map((camera) => new Option(displayName(camera), camera.name)));
  fields.type.replaceChildren(new Option(t("all"), ""), ...EVENT_TYPES.map((type) => new Option(t(type), type)));
  fields.start.value = localInput(Date.now() - DAY_MS);

  const search = async () => {
    const query = new URLSearchParams({ limit: FOUND_AT_MOST });
    for (const key of ["camera", "type"]) if (fields[key].value) query.set(key, fields[key].value);
    for (const key of ["start", "end"]) {
      if (!fields[key].value) continue;
      const ms = parseTyped(fields[key].value, Date.now());
      if (ms === null) {
        error.textContent = t("bad_time");
        return;
      }
      query.set(key, ms / 1000);
    }
    if (fields.unacked.checked) query.set("acknowledged", "false");
    try {
      const found = await api(`/api/events?${query}`);
      error.textContent = found.length ? "" : t("no_events");
      list.replaceChildren(...found.map((event) => {
        const name = names.get(event.camera) || event.camera;
        const item = eventItem(event, name);
        const box = document.createElement("div");
        box.className = "ack-box";
        const extra = isStaff(me) ? [caseButton(event, name)] : [];
        item.append(box, ...extra);
        showAck(box, event, me, (updated) => eventItem(updated, name, item).append(box, ...extra));
        return item;
      }));
    } catch (failure) {
      error.textContent = failure.message;
    }
  };
  form.addEventListener("submit", (submit) => {
    submit.preventDefault();
    search();
  });
  await search();
  return () => {};
}
