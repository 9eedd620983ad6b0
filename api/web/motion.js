// Motion search (#/motion?camera=NAME&at=MS): draw an area on the camera's picture (the keyframe at `at`, or
// the latest), choose the time range, and list the moments with motion inside it (a catalog query of the
// motion grids, design/motion_search.md); the cells that moved show over the picture, and a moment found plays
// in the playback. Anyone who may see the camera may search it.
import { api } from "./api.js";
import { drawOnPicture, offerCameras } from "./cameradrawing.js";
import { playbackHash, PRE_ROLL_MS } from "./eventlist.js";
import { applyTexts, t } from "./i18n.js";
import { clock, localInput, parseTyped, rangeProblem, when } from "./timefmt.js";

const DAY_MS = 86400000;
const MINUTE_MS = 60000;
const MAX_SEARCH_DAYS = 31; // the API's limit (api/routes_motion_search.py)
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

export async function showMotionSearch(view, query) {
  view.replaceChildren(document.getElementById("motion-template").content.cloneNode(true));
  applyTexts(view);
  const root = view.querySelector(".motion-page");
  const form = root.querySelector(".motion-form");
  const fields = form.elements;
  const summary = root.querySelector(".motion-summary");
  const error = root.querySelector(".error");
  const results = root.querySelector(".motion-results");
  const { drawing, show } = drawOnPicture(root, (shown) => {
    if (shown) root.dataset.picture = "ready";
  });
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
  const showPicture = () => show(fields.camera.value, at);
  fields.camera.addEventListener("change", () => {
    drawing.clear();
    forget();
    showPicture();
  });
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
