// Motion search (#/motion?camera=NAME&at=MS): draw an area on the camera's picture (the keyframe at `at`, or
// the latest), choose the time range, and list the moments with motion inside it (a catalog query of the
// motion grids, design/motion_search.md); the cells that moved show over the picture, and a moment found plays
// in the playback. Anyone who may see the camera may search it.
import { api } from "./api.js";
import { AreaDrawing } from "./areadrawing.js";
import { playbackHash, PRE_ROLL_MS } from "./eventlist.js";
import { displayName } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { clock, dateTime, localInput, parseTyped, rangeProblem, when } from "./timefmt.js";

const DAY_MS = 86400000;
const MINUTE_MS = 60000;
const MAX_SEARCH_DAYS = 31; // the API's limit (api/routes_motion_search.py)
const PICTURE_BACK_MS = 2000; // the picture: a keyframe this far before the newest footage (at most) ...
const PICTURE_LOOK_MS = 3600000; // ... recorded within this long before the moment asked for

// The moment whose picture to draw on: `at` if it was recorded, else the latest recorded before it.
export async function pictureTime(camera, at) {
  const query = new URLSearchParams({ start: (at - PICTURE_LOOK_MS) / 1000, end: at / 1000 });
  const listing = await api(`/api/cameras/${encodeURIComponent(camera)}/recordings?${query}`);
  const last = listing.ranges.map((range) => [Date.parse(range.start), Date.parse(range.end)]).at(-1);
  return last ? Math.min(at, Math.max(last[0], last[1] - PICTURE_BACK_MS)) : at;
}

function resultItem(range, camera, onShow) {
  const item = document.createElement("li");
  item.tabIndex = 0;
  item.dataset.start = range.start_ms;
  item.dataset.end = range.end_ms;
  item.textContent = `${when(range.start_ms)} – ${clock(range.end_ms)} (${Math.round((range.end_ms - range.start_ms) / 1000)} ${t("seconds")})`;
  const play = () => {
    location.hash = `${playbackHash([camera], range.start_ms - PRE_ROLL_MS)}&play=1`;
  };
  item.addEventListener("click", play);
  item.addEventListener("keydown", (key) => { if (key.key === "Enter") play(); });
  item.addEventListener("pointerenter", onShow);
  item.addEventListener("focus", onShow);
  return item;
}

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

export async function showMotionSearch(view, query) {
  view.replaceChildren(document.getElementById("motion-template").content.cloneNode(true));
  applyTexts(view);
  const root = view.querySelector(".motion-page");
  const form = root.querySelector(".motion-form");
  const fields = form.elements;
  const picture = root.querySelector(".picture img");
  const note = root.querySelector(".picture-note");
  const summary = root.querySelector(".motion-summary");
  const error = root.querySelector(".error");
  const results = root.querySelector(".motion-results");
  const drawing = new AreaDrawing(root.querySelector(".drawing"));
  if (!await offerCameras(root, fields.camera, query.get("camera"))) return () => {};
  const at = Math.min(Number(query.get("at")) || Date.now(), Date.now());
  fields.start.value = localInput(at - DAY_MS);
  fields.end.value = localInput(Date.now() + MINUTE_MS); // to the minute: the one under way is included
  let grid = { columns: 16, rows: 9 };

  const forget = () => {
    delete root.dataset.found;
    results.replaceChildren();
    summary.textContent = "";
    drawing.showCells([], 1, 1, "moved");
    drawing.showCells([], 1, 1, "area-cell");
  };
  let shownAt = at;
  const showPicture = async () => {
    const camera = fields.camera.value;
    note.textContent = t("loading");
    shownAt = await pictureTime(camera, at).catch(() => at);
    picture.src = `/api/cameras/${encodeURIComponent(camera)}/thumbnail.jpg?at=${shownAt / 1000}`;
  };
  picture.addEventListener("load", () => {
    note.textContent = t("picture_at", { at: dateTime(shownAt) });
    drawing.setPicture(picture.naturalWidth, picture.naturalHeight);
    root.dataset.picture = "ready";
  });
  picture.addEventListener("error", () => { note.textContent = t("no_footage"); });
  fields.camera.addEventListener("change", () => {
    drawing.clear();
    forget();
    showPicture();
  });
  root.querySelector(".undo").addEventListener("click", () => drawing.undo());
  root.querySelector(".clear").addEventListener("click", () => drawing.clear());
  drawing.addEventListener("change", forget);

  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    forget();
    error.textContent = "";
    const [start, end] = [fields.start.value, fields.end.value].map((value) => parseTyped(value, Date.now()));
    const wrong = rangeProblem(start, end, MAX_SEARCH_DAYS);
    if (wrong) {
      error.textContent = wrong;
      return;
    }
    if (drawing.points.length < 3) {
      error.textContent = t("draw_first");
      return;
    }
    const camera = fields.camera.value;
    try {
      const found = await api(`/api/cameras/${encodeURIComponent(camera)}/motion-search`, {
        method: "POST", body: JSON.stringify({ start: start / 1000, end: end / 1000, area: drawing.points }) });
      grid = found.grid;
      drawing.showCells(found.area_cells, grid.columns, grid.rows, "area-cell");
      summary.textContent = found.ranges.length
        ? t(found.truncated ? "motion_found_more" : "motion_found", { n: found.ranges.length, ms: Math.round(found.query_ms) })
        : t("motion_none");
      root.dataset.found = found.ranges.length;
      results.replaceChildren(...found.ranges.map((range) => resultItem(range, camera,
        () => drawing.showCells(range.cells, grid.columns, grid.rows, "moved"))));
      if (found.ranges.length) drawing.showCells(found.ranges[0].cells, grid.columns, grid.rows, "moved");
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  showPicture();
  return () => {};
}
