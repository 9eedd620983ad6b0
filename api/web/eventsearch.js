// The events page (#/events): events found by camera, type and time (and whether anyone acknowledged them);
// each one plays its footage when clicked, and operators acknowledge it there with a note.
import { api } from "./api.js";
import { eventItem, showAck } from "./eventlist.js";
import { displayName } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { EVENT_TYPES } from "./timeline.js";
import { dateTime, parseTyped } from "./timefmt.js";

const DAY_MS = 86400000;
const FOUND_AT_MOST = 500;

function localInput(ms) {
  return dateTime(ms).slice(0, 16).replace(" ", "T"); // what <input type="datetime-local"> holds
}

function option(value, text) {
  return new Option(text, value);
}

export async function showEventSearch(view, me) {
  view.replaceChildren(document.getElementById("events-template").content.cloneNode(true));
  applyTexts(view);
  const form = view.querySelector(".event-filter");
  const list = view.querySelector(".event-list");
  const error = view.querySelector(".error");
  const cameras = await api("/api/cameras");
  const names = new Map(cameras.map((camera) => [camera.name, displayName(camera)]));
  const fields = form.elements;
  fields.camera.replaceChildren(option("", t("all")), ...cameras.map((camera) => option(camera.name, displayName(camera))));
  fields.type.replaceChildren(option("", t("all")), ...EVENT_TYPES.map((type) => option(type, t(type))));
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
        const item = eventItem(event, names.get(event.camera) || event.camera);
        const box = document.createElement("div");
        box.className = "ack-box";
        item.append(box);
        showAck(box, event, me, (updated) => eventItem(updated, names.get(event.camera) || event.camera, item)
          .append(box));
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
