// What the pages that draw on a camera's picture share (motion search, detection areas): the cameras to choose
// from, and the chosen camera's picture with an area drawn over it (`#drawing-template`, undo and clear included).
import { api } from "./api.js";
import { AreaDrawing } from "./areadrawing.js";
import { displayName } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { dateTime } from "./timefmt.js";

const PICTURE_BACK_MS = 2000; // the picture: a keyframe this far before the newest footage (at most) ...
const PICTURE_LOOK_MS = 3600000; // ... recorded within this long before the moment asked for

// The cameras the caller may see, offered in `select` (`wanted` chosen if it is one of them); false, said in `root`
// instead, when there is none.
export async function offerCameras(root, select, wanted) {
  const cameras = await api("/api/cameras");
  if (!cameras.length) {
    root.replaceChildren(t("no_cameras"));
    return false;
  }
  select.replaceChildren(...cameras.map((camera) => new Option(displayName(camera), camera.name)));
  if (cameras.some((camera) => camera.name === wanted)) select.value = wanted;
  return true;
}

// The moment whose picture to draw on: `at` if it was recorded, else the latest recorded before it.
async function pictureTime(camera, at) {
  const query = new URLSearchParams({ start: (at - PICTURE_LOOK_MS) / 1000, end: at / 1000 });
  const listing = await api(`/api/cameras/${encodeURIComponent(camera)}/recordings?${query}`);
  const last = listing.ranges.map((range) => [Date.parse(range.start), Date.parse(range.end)]).at(-1);
  return last ? Math.min(at, Math.max(last[0], last[1] - PICTURE_BACK_MS)) : at;
}

// The picture and its drawing, put into `root`'s `.drawing-slot`; `onShown(shown)` runs once a picture asked for
// is there (false: the camera has no footage then). Returns the drawing and `show(camera, at)`.
export function drawOnPicture(root, onShown) {
  const slot = root.querySelector(".drawing-slot");
  slot.replaceChildren(document.getElementById("drawing-template").content.cloneNode(true));
  applyTexts(slot);
  const picture = slot.querySelector(".picture img");
  const note = slot.querySelector(".picture-note");
  const drawing = new AreaDrawing(slot.querySelector(".drawing"));
  slot.querySelector(".undo").addEventListener("click", () => drawing.undo());
  slot.querySelector(".clear").addEventListener("click", () => drawing.clear());
  let shownAt = 0;
  picture.addEventListener("load", () => {
    note.textContent = t("picture_at", { at: dateTime(shownAt) });
    drawing.setPicture(picture.naturalWidth, picture.naturalHeight);
    onShown(true);
  });
  picture.addEventListener("error", () => {
    note.textContent = t("no_footage");
    onShown(false);
  });
  const show = async (camera, at) => {
    note.textContent = t("loading");
    shownAt = await pictureTime(camera, at).catch(() => at);
    picture.src = `/api/cameras/${encodeURIComponent(camera)}/thumbnail.jpg?at=${shownAt / 1000}`;
  };
  return { drawing, show };
}
