// A camera's detection areas (#/areas?camera=NAME), for administrators: its picture with the cells of the motion
// grid where it saw motion lately (darker where more often: the sea's foam, a tree, a flag that never rest), its
// masks and zones over it; draw an area, add it as a mask or a zone, remove one, save. Saving restarts only the
// camera's detection, never its recording (design/detection_weather.md).
import { api } from "./api.js";
import { drawOnPicture, offerCameras } from "./cameradrawing.js";
import { applyTexts, currentLanguage, t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const KINDS = ["masks", "zones"];

function polygonOf(points, size, kind) {
  const shape = document.createElementNS(SVG, "polygon");
  shape.setAttribute("class", kind);
  shape.setAttribute("points", points.map(([x, y]) => `${x * size.width},${y * size.height}`).join(" "));
  return shape;
}

export async function showAreas(view, me, query) {
  if (me.role !== "admin") {
    view.replaceChildren(t("admins_only"));
    return () => {};
  }
  view.replaceChildren(document.getElementById("areas-template").content.cloneNode(true));
  applyTexts(view);
  const root = view.querySelector(".areas-page");
  const fields = root.querySelector(".areas-form").elements;
  const summary = root.querySelector(".areas-summary");
  const status = root.querySelector(".areas-status");
  const error = root.querySelector(".error");
  const { drawing, show } = drawOnPicture(root, () => {
    drawKept();
    loadOrSay();
  });
  const svg = drawing.svg;
  if (!await offerCameras(root, fields.camera, query.get("camera"))) return () => {};
  const editing = root.querySelectorAll(".add-masks, .add-zones, .save");
  let camera = null; // whose areas the page holds (null while a camera's are loading)
  let areas = { masks: [], zones: [], version: null }; // the version they were read at, sent back with them
  let unsaved = false;
  let asked = 0; // counts the loads asked for: an answer overtaken by a later one is dropped

  const drawKept = () => {
    svg.querySelector(".kept").replaceChildren(...KINDS.flatMap((kind) =>
      areas[kind].map((points) => polygonOf(points, drawing.size, kind))));
    for (const kind of KINDS) {
      const list = root.querySelector(`.${kind}-list`);
      list.replaceChildren(...areas[kind].map((_points, index) => {
        const item = document.createElement("li");
        item.textContent = `${t(kind === "masks" ? "mask_n" : "zone_n", { n: index + 1 })} `;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "ghost remove";
        remove.textContent = t("remove");
        remove.addEventListener("click", () => {
          areas[kind].splice(index, 1);
          changed();
        });
        item.append(remove);
        return item;
      }));
      if (!areas[kind].length) list.append(Object.assign(document.createElement("li"), { className: "muted", textContent: t("none_yet") }));
    }
    root.dataset.masks = areas.masks.length;
    root.dataset.zones = areas.zones.length;
  };
  const changed = () => {
    unsaved = true;
    drawKept();
    status.textContent = t("areas_unsaved");
    root.dataset.saved = "false";
  };

  // the chosen camera's areas (kept while they have unsaved changes) and where it moved in the period chosen
  const load = async () => {
    const mine = ++asked;
    const wanted = fields.camera.value;
    error.textContent = "";
    const found = await api(`/api/cameras/${encodeURIComponent(wanted)}/detection-areas?hours=${fields.hours.value}`);
    if (mine !== asked) return;
    if (!unsaved) areas = { masks: found.masks, zones: found.zones, version: found.version };
    camera = wanted;
    for (const control of editing) control.disabled = false;
    const most = Math.max(1, found.motion_seconds);
    const cells = drawing.showCells(found.cells, found.grid.columns, found.grid.rows, "busy"); // [column, row, n]
    cells.forEach((cell, index) => cell.style.setProperty("fill-opacity", (0.15 + 0.7 * found.cells[index][2] / most).toFixed(2)));
    summary.textContent = found.motion_seconds
      ? t("areas_moved", { seconds: found.motion_seconds.toLocaleString(currentLanguage()) })
      : t("areas_quiet");
    drawKept();
    root.dataset.loaded = "true";
  };
  const loadOrSay = () => load().catch((failure) => { error.textContent = failure.message; });
  const showPicture = () => show(fields.camera.value, Date.now());
  fields.camera.addEventListener("change", () => {
    if (unsaved && !confirm(t("confirm_discard_areas"))) {
      fields.camera.value = camera;
      return;
    }
    // nothing of the camera left is kept or can be saved onto the one chosen until its own areas are loaded
    camera = null;
    areas = { masks: [], zones: [], version: null };
    unsaved = false;
    for (const control of editing) control.disabled = true;
    delete root.dataset.loaded;
    status.textContent = "";
    summary.textContent = "";
    drawing.clear();
    drawing.showCells([], 1, 1, "busy");
    drawKept();
    showPicture();
  });
  fields.hours.addEventListener("change", loadOrSay);
  for (const kind of KINDS) {
    root.querySelector(`.add-${kind}`).addEventListener("click", () => {
      if (drawing.points.length < 3) {
        error.textContent = t("draw_area_first");
        return;
      }
      error.textContent = "";
      areas[kind].push(drawing.points);
      drawing.clear();
      changed();
    });
  }
  root.querySelector(".save").addEventListener("click", async () => {
    if (camera === null) return;
    try {
      const saved = await api(`/api/cameras/${encodeURIComponent(camera)}/detection-areas`,
        { method: "PUT", body: JSON.stringify(areas) });
      if (saved.camera !== camera) return; // another camera chosen while it saved
      areas = { masks: saved.masks, zones: saved.zones, version: saved.version };
      unsaved = false;
      drawKept();
      error.textContent = "";
      status.textContent = t("areas_saved");
      root.dataset.saved = "true";
    } catch (failure) {
      error.textContent = `${t("save_failed")}: ${failure.message}`;
    }
  });
  for (const control of editing) control.disabled = true;
  // closing or reloading the tab with changes unsaved asks first (the browser's own question)
  const warn = (leaving) => {
    if (unsaved) leaving.preventDefault();
  };
  window.addEventListener("beforeunload", warn);
  showPicture();
  const leave = () => window.removeEventListener("beforeunload", warn);
  leave.mayLeave = () => !unsaved || confirm(t("confirm_discard_areas")); // another screen asked for (app.js)
  return leave;
}
