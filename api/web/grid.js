// The station screen: every camera the user may see, live, with status badges, alerts and the event feed.
import { api } from "./api.js";
import { connectEvents, onEvent } from "./events.js";
import { applyTexts, t } from "./i18n.js";
import { keepLive } from "./live.js";
import { clock } from "./timefmt.js";

const STATUS_POLL_MS = 5000;
const ALERT_HOLD_MS = 10000; // a tile stays highlighted this long after its motion event ends

export function displayName(camera) {
  return camera.title || camera.name;
}

export function badgeHtml(camera, alerting) {
  const badges = [];
  if (camera.status !== "online") badges.push(`<span class="badge offline">${t(camera.status === "offline" ? "offline" : "connecting")}</span>`);
  if (camera.mode === "ir") badges.push(`<span class="badge night">${t("night")}</span>`);
  if (camera.tamper) badges.push(`<span class="badge tamper">${t("tamper")}</span>`);
  if (alerting) badges.push(`<span class="badge alert">${t("alert")}</span>`);
  return badges.join("");
}

export async function showGrid(view) {
  view.replaceChildren(document.getElementById("grid-template").content.cloneNode(true));
  applyTexts(view);
  const grid = view.querySelector("#grid");
  const feed = view.querySelector("#feed");
  const tiles = new Map();
  const stops = [];
  const alerts = new Map(); // camera -> time the highlight ends (Infinity while the event is open)

  const cameras = await api("/api/cameras");
  for (const camera of cameras) {
    const tile = document.getElementById("tile-template").content.firstElementChild.cloneNode(true);
    tile.dataset.camera = camera.name;
    tile.querySelector(".name").textContent = displayName(camera);
    tile.querySelector(".place").textContent = camera.location;
    tile.querySelector(".tile-link").title = [displayName(camera), camera.location].filter(Boolean).join(" — ");
    tile.querySelector(".tile-link").href = `#/camera/${encodeURIComponent(camera.name)}`;
    grid.append(tile);
    tiles.set(camera.name, { tile, camera });
    stops.push(keepLive(tile.querySelector("video"), camera.name, "sub"));
  }

  const render = () => {
    const now = Date.now();
    for (const [name, { tile, camera }] of tiles) {
      const alerting = (alerts.get(name) ?? 0) > now;
      tile.classList.toggle("alerting", alerting);
      tile.classList.toggle("offline", camera.status !== "online");
      tile.querySelector(".badges").innerHTML = badgeHtml(camera, alerting);
    }
  };
  const refresh = async () => {
    for (const camera of await api("/api/cameras")) {
      const entry = tiles.get(camera.name);
      if (entry) entry.camera = camera;
    }
    render();
  };
  const poll = setInterval(() => refresh().catch(() => {}), STATUS_POLL_MS);
  const redraw = setInterval(render, 1000);
  render();

  const addToFeed = (event) => {
    if (!tiles.has(event.camera)) return;
    let item = feed.querySelector(`[data-event="${event.id}"]`);
    if (!item) {
      item = document.createElement("li");
      item.dataset.event = event.id;
      item.dataset.camera = event.camera;
      feed.prepend(item);
      while (feed.children.length > 50) feed.lastElementChild.remove();
    }
    const snapshot = event.has_snapshot ? `<img alt="" src="/api/events/${event.id}/snapshot.jpg?v=${event.updated_ms || 0}">` : "";
    item.innerHTML = `${snapshot}<div><strong></strong> ${t(event.type)}<br><time>${clock(event.start_ms)}</time></div>`;
    item.querySelector("strong").textContent = displayName(tiles.get(event.camera).camera);
    item.onclick = () => { location.hash = `#/camera/${encodeURIComponent(event.camera)}`; };
  };

  try {
    for (const event of (await api("/api/events?limit=20")).reverse()) addToFeed(event);
  } catch { /* events arrive with detection; the feed stays empty until then */ }
  connectEvents();
  const unsubscribe = onEvent((event) => {
    addToFeed(event);
    if (event.type === "motion" || event.type.startsWith("tamper")) {
      alerts.set(event.camera, event.end_ms ? Date.now() + ALERT_HOLD_MS : Infinity);
      render();
    }
  });

  return () => {
    clearInterval(poll);
    clearInterval(redraw);
    unsubscribe();
    stops.forEach((stop) => stop());
  };
}
