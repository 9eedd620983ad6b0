// "Add to case" (operators and administrators): a range of the cameras shown in the playback, an event or a
// bookmark goes into a new case or an open one. The case last used on this screen is offered first.
import { api } from "./api.js";
import { cameraCheckbox } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { dateTime, parseTyped } from "./timefmt.js";

const LAST_CASE_KEY = "nvr-last-case";
const NEW_CASE = "new";

// A modal dialog cloned from `template`, removed from the page when closed.
export function openDialog(template) {
  const dialog = document.getElementById(template).content.firstElementChild.cloneNode(true);
  applyTexts(dialog);
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.querySelector(".cancel").addEventListener("click", () => dialog.close());
  dialog.showModal();
  return dialog;
}

// The items to add: one per camera checked over the typed range, or the event's or bookmark's own.
function itemsOf(source, form) {
  if (source.event) return [{ event: source.event }];
  if (source.bookmark) return [{ bookmark: source.bookmark }];
  const fields = form.elements;
  const start = parseTyped(fields.start.value, source.start);
  const end = parseTyped(fields.end.value, source.end);
  if (start === null || end === null) throw new Error(t("bad_time"));
  if (end <= start) throw new Error(t("range_error"));
  const cameras = [...form.querySelectorAll(".case-cameras input:checked")].map((box) => box.value);
  if (!cameras.length) throw new Error(t("choose_a_camera"));
  return cameras.map((camera) => ({ camera, start: start / 1000, end: end / 1000 }));
}

async function addItems(choice, title, items) {
  if (choice === NEW_CASE) {
    return api("/api/cases", { method: "POST", body: JSON.stringify({ title, items }) });
  }
  for (const item of items) {
    await api(`/api/cases/${choice}/items`, { method: "POST", body: JSON.stringify(item) });
  }
  return api(`/api/cases/${choice}`);
}

// `source`: { cameras: [API camera], start, end } (a range, ms), or { event: id, label } or { bookmark: id, label }.
// `onAdded(case)` hears of the change (the timeline shows the new lock).
export async function addToCase(source, onAdded = () => {}) {
  const dialog = openDialog("case-dialog-template");
  const form = dialog.querySelector("form");
  const fields = form.elements;
  const ranged = Boolean(source.cameras);
  dialog.querySelector(".range-fields").hidden = !ranged;
  dialog.querySelector(".what").textContent = ranged ? "" : source.label;
  if (ranged) {
    dialog.querySelector(".case-cameras").replaceChildren(...source.cameras.map((camera) => {
      const label = cameraCheckbox(camera, true);
      label.className = "check";
      return label;
    }));
    // typed back to the second: the start rounded down and the end up, so the whole range marked goes in
    fields.start.value = dateTime(Math.floor(source.start / 1000) * 1000);
    fields.end.value = dateTime(Math.ceil(source.end / 1000) * 1000);
  }
  const submitButton = form.querySelector("button[type=submit]");
  // the form is answered here from the start: a submit while the open cases load must not leave the page
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    // disabled while the open cases load and while a request is on its way: Enter or a second click adds nothing
    if (submitButton.disabled) return;
    submitButton.disabled = true;
    const error = form.querySelector(".error");
    try {
      const note = fields.note.value.trim();
      const items = itemsOf(source, form).map((item) => (note ? { ...item, note } : item));
      const found = await addItems(fields.case.value, fields.title.value.trim(), items);
      sessionStorage.setItem(LAST_CASE_KEY, found.id);
      form.hidden = true;
      const done = dialog.querySelector(".done");
      done.hidden = false;
      done.querySelector(".done-text").textContent = t("added_to_case", { n: items.length, title: found.title });
      const link = done.querySelector(".open-case");
      link.href = `#/case/${found.id}`;
      link.addEventListener("click", () => dialog.close());
      done.querySelector(".close").addEventListener("click", () => dialog.close());
      onAdded(found);
    } catch (failure) {
      error.textContent = failure.message;
      submitButton.disabled = false;
    }
  });
  submitButton.disabled = true;
  const open = (await api("/api/cases?status=open").catch(() => []))
    .filter((found) => found.district_case == null); // held for the district: it adds to them itself
  const last = sessionStorage.getItem(LAST_CASE_KEY);
  fields.case.replaceChildren(new Option(t("new_case_option"), NEW_CASE),
    ...open.map((found) => new Option(`${found.title} (#${found.id})`, found.id)));
  if (open.some((found) => String(found.id) === last)) fields.case.value = last;
  const titled = () => {
    dialog.querySelector(".new-title").hidden = fields.case.value !== NEW_CASE;
    fields.title.required = fields.case.value === NEW_CASE;
  };
  fields.case.addEventListener("change", titled);
  titled();
  submitButton.disabled = false;
  return dialog;
}
