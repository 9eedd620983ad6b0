// The events page (#/events): events found by camera, type and time (and whether anyone acknowledged them);
// each one plays its footage when clicked, and operators acknowledge it there with a note or add it to a case.
import { addToCase } from "./addtocase.js";
import { api, isStaff } from "./api.js";
import { eventItem, eventLabel, showAck } from "./eventlist.js";
import { displayName, displayNames } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { EVENT_TYPES } from "./timeline.js";
import { localInput, parseTyped, rangeProblem } from "./timefmt.js";

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

  const more = view.querySelector(".more-events");
  let shown = new Set(); // ids listed
  let last = null; // the last page's query and oldest start, for the next page
  let asked = 0; // searches started: the answer to one that a newer search replaced is dropped
  const itemOf = (event) => {
    const name = names.get(event.camera) || event.camera;
    const item = eventItem(event, name);
    const box = document.createElement("div");
    box.className = "ack-box";
    const extra = isStaff(me) ? [caseButton(event, name)] : [];
    item.append(box, ...extra);
    showAck(box, event, me, (updated) => eventItem(updated, name, item).append(box, ...extra));
    return item;
  };
  // One page of FOUND_AT_MOST events, newest first; false when a newer search replaced it meanwhile.
  const page = async (query, append) => {
    const mine = asked;
    const answer = await api(`/api/events?${query}`);
    if (mine !== asked) return false;
    const found = answer.filter((event) => !shown.has(event.id)); // the page before's oldest comes again
    if (!append) list.replaceChildren();
    list.append(...found.map(itemOf));
    for (const event of found) shown.add(event.id);
    const full = answer.length >= FOUND_AT_MOST && found.length > 0;
    last = full ? { query, end: Math.min(...answer.map((event) => event.start_ms)) } : null;
    more.hidden = !full;
    more.textContent = t("more_events", { n: shown.size }); // the next page ends where this one's oldest began
    return true;
  };
  const search = async () => {
    const query = new URLSearchParams({ limit: FOUND_AT_MOST });
    for (const key of ["camera", "type"]) if (fields[key].value) query.set(key, fields[key].value);
    const [start, end] = ["start", "end"].map((key) => (fields[key].value ? parseTyped(fields[key].value, Date.now())
      : undefined));
    const wrong = start === null || end === null ? t("bad_time")
      : start !== undefined && end !== undefined ? rangeProblem(start, end, Infinity) : "";
    if (wrong) {
      error.textContent = wrong;
      return;
    }
    // the API's default window (a day before the end) written out: the pages after this one keep its start
    query.set("start", (start ?? (end ?? Date.now()) - DAY_MS) / 1000);
    if (end !== undefined) query.set("end", end / 1000);
    if (fields.unacked.checked) query.set("acknowledged", "false");
    error.textContent = "";
    try {
      asked += 1;
      shown = new Set();
      if (await page(query, false) && !shown.size) error.textContent = t("no_events");
    } catch (failure) {
      error.textContent = failure.message;
    }
  };
  more.addEventListener("click", async () => {
    if (!last || more.disabled) return; // a second click while the page comes would ask for it again
    const query = new URLSearchParams(last.query);
    query.set("end", (last.end + 1) / 1000);
    more.disabled = true;
    try {
      await page(query, true);
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      more.disabled = false;
    }
  });
  form.addEventListener("submit", (submit) => {
    submit.preventDefault();
    search();
  });
  await search();
  return () => {};
}
