// What duty officers do in the player for a case (households see none of it): mark the start and end of a
// range at the play head (shaded on the timeline), add that range of the cameras shown to a case, bookmark
// the moment with a note, and the list of the bookmarks around (play, edit, delete, add to a case).
import { addToCase, openDialog } from "./addtocase.js";
import { api } from "./api.js";
import { displayName, displayNames } from "./grid.js";
import { t } from "./i18n.js";
import { dateTime } from "./timefmt.js";

const AROUND_MS = 30000; // without marks, a case takes the half minute either side of the head

function bookmarkDialog(cameras, at, onSaved) {
  const dialog = openDialog("bookmark-dialog-template");
  const form = dialog.querySelector("form");
  dialog.querySelector(".what").textContent = dateTime(at);
  form.elements.camera.replaceChildren(...cameras.map((camera) => new Option(displayName(camera), camera.name)));
  form.elements.note.focus();
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    try {
      await api("/api/bookmarks", { method: "POST", body: JSON.stringify({
        camera: form.elements.camera.value, at: at / 1000, note: form.elements.note.value.trim() }) });
      dialog.close();
      onSaved();
    } catch (failure) {
      form.querySelector(".error").textContent = failure.message;
    }
  });
}

function button(text, className, action) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = `ghost ${className}`;
  element.textContent = t(text);
  element.addEventListener("click", action);
  return element;
}

// One bookmark of the list: its time, camera and note; play, edit the note, add to a case, delete.
function bookmarkItem(mark, names, player, footage) {
  const item = document.createElement("li");
  item.dataset.bookmark = mark.id;
  const at = document.createElement("time");
  at.textContent = dateTime(mark.at_ms);
  const note = document.createElement("span");
  note.className = "note";
  note.textContent = mark.note;
  const edit = () => {
    const field = document.createElement("input");
    field.name = "note";
    field.value = mark.note;
    field.maxLength = 4000;
    const save = button("save", "save", async () => {
      await api(`/api/bookmarks/${mark.id}`, { method: "PATCH", body: JSON.stringify({ note: field.value.trim() }) })
        .catch((failure) => alert(failure.message));
      note.textContent = field.value.trim();
      footage.reload();
    });
    note.replaceChildren(field, save);
    field.focus();
  };
  item.append(
    button("play", "play-mark", () => player.seek(mark.at_ms - 5000)), at, ` ${names.get(mark.camera)} `, note,
    button("edit", "edit", edit),
    button("add_to_case", "add-to-case", () => addToCase(
      { bookmark: mark.id, label: `${names.get(mark.camera)}, ${dateTime(mark.at_ms)}: ${mark.note}` },
      () => footage.reload())),
    button("remove", "remove", async () => {
      if (!confirm(t("confirm_remove_bookmark"))) return;
      await api(`/api/bookmarks/${mark.id}`, { method: "DELETE" }).catch((failure) => alert(failure.message));
      footage.reload();
    }),
  );
  return item;
}

export function setUpCaseActions(root, player, timeline, footage, cameras) {
  const names = displayNames(cameras);
  const controls = root.querySelector(".controls .evidence");
  controls.hidden = false;
  const selection = { start: null, end: null };
  const mark = (end) => {
    selection[end] = player.clock.now();
    if (selection.start !== null && selection.end !== null && selection.end <= selection.start) {
      selection[end === "start" ? "end" : "start"] = null; // a new range begins
    }
    timeline.setSelection({ ...selection });
    root.dataset.selection = `${selection.start ?? ""},${selection.end ?? ""}`;
  };
  controls.querySelector(".mark-in").addEventListener("click", () => mark("start"));
  controls.querySelector(".mark-out").addEventListener("click", () => mark("end"));
  controls.querySelector(".add-bookmark").addEventListener("click", () => {
    player.clock.pause();
    bookmarkDialog(cameras, Math.round(player.clock.now()), () => footage.reload());
  });
  controls.querySelector(".add-to-case").addEventListener("click", () => {
    const head = player.clock.now();
    const marked = selection.start !== null && selection.end !== null;
    addToCase({ cameras, start: marked ? selection.start : head - AROUND_MS,
      end: marked ? selection.end : Math.min(head + AROUND_MS, Date.now()) }, () => footage.reload());
  });

  const list = root.querySelector(".bookmark-list");
  list.hidden = false;
  const show = () => {
    if (list.querySelector(".note input")) return; // a note being edited stays until it is saved
    list.querySelector(".count").textContent = footage.bookmarks.length;
    list.querySelector("ol").replaceChildren(...footage.bookmarks.map((mark) => bookmarkItem(mark, names, player, footage)));
  };
  footage.addEventListener("change", show);
}
