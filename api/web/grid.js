// The station screen: the cameras the user may see, live, filling the screen a page of N x N at a time (2x2
// to 6x6), with status badges, alerts (a highlight and a sound that can be muted), any camera full screen
// (its main stream), and the event feed, whose items play the event's footage.
import { alarm, isMuted, setMuted } from "./alarm.js";
import { api } from "./api.js";
import { eventItem } from "./eventlist.js";
import { connectEvents, onEvent } from "./events.js";
import { applyTexts, t } from "./i18n.js";
import { keepLive } from "./live.js";

const STATUS_POLL_MS = 5000;
const ALERT_HOLD_MS = 10000; // a tile stays highlighted this long after its motion event ends
const LAYOUTS = [2, 3, 4, 5, 6];
const LAYOUT_KEY = "nvr-layout";
const FEED_LENGTH = 50;

export function displayName(camera) {
  return camera.title || camera.name;
}

// name -> what the screens show for it
export function displayNames(cameras) {
  return new Map(cameras.map((camera) => [camera.name, displayName(camera)]));
}

// A camera's checkbox with its name as the value, in a label that shows its display name
export function cameraCheckbox(camera, checked) {
  const label = document.createElement("label");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.value = camera.name;
  box.checked = checked;
  label.append(box, ` ${displayName(camera)}`);
  return label;
}

export function badgeHtml(camera, alerting) {
  const badges = [];
  if (camera.status !== "online") badges.push(`<span class="badge offline">${t(camera.status === "offline" ? "offline" : "connecting")}</span>`);
  if (camera.mode === "ir") badges.push(`<span class="badge night">${t("night")}</span>`);
  if (camera.tamper) badges.push(`<span class="badge tamper">${t("tamper")}</span>`);
  if (camera.raining) badges.push(`<span class="badge weather">${t("raining")}</span>`);
  if (camera.shaking) badges.push(`<span class="badge weather">${t("shaking")}</span>`);
  if (alerting) badges.push(`<span class="badge alert">${t("alert")}</span>`);
  return badges.join("");
}

export function toggleFullscreen(element) {
  if (document.fullscreenElement) document.exitFullscreen();
  else element.requestFullscreen().catch(() => {});
}

function isAlert(event) {
  return event.type === "motion" || event.type.startsWith("tamper");
}

function defaultLayout(count) {
  const stored = Number(localStorage.getItem(LAYOUT_KEY));
  return LAYOUTS.includes(stored) ? stored : LAYOUTS.find((size) => size * size >= count) || LAYOUTS.at(-1);
}

export async function showGrid(view) {
  view.replaceChildren(document.getElementById("grid-template").content.cloneNode(true));
  applyTexts(view);
  const grid = view.querySelector("#grid");
  const feed = view.querySelector("#feed");
  const bar = view.querySelector(".grid-bar");
  const tiles = new Map(); // name -> { tile, camera, stop, quality }
  const alerts = new Map(); // camera -> time the highlight ends (Infinity while the event is open)

  const cameras = await api("/api/cameras");
  for (const camera of cameras) {
    const tile = document.getElementById("tile-template").content.firstElementChild.cloneNode(true);
    tile.dataset.camera = camera.name;
    tile.querySelector(".name").textContent = displayName(camera);
    tile.querySelector(".place").textContent = camera.location;
    tile.querySelector(".tile-link").title = [displayName(camera), camera.location].filter(Boolean).join(" — ");
    tile.querySelector(".tile-link").href = `#/camera/${encodeURIComponent(camera.name)}`;
    tile.querySelector(".full").addEventListener("click", () => toggleFullscreen(tile));
    applyTexts(tile);
    grid.append(tile);
    tiles.set(camera.name, { tile, camera, stop: null, quality: null });
  }

  // Only the tiles of the page shown are watched; the one full screen gets the main stream.
  const watch = (entry, quality) => {
    if (entry.quality === quality) return;
    entry.stop?.();
    entry.stop = quality ? keepLive(entry.tile.querySelector("video"), entry.camera.name, quality) : null;
    entry.quality = quality;
  };
  let size = defaultLayout(cameras.length);
  let page = 0;
  const layout = bar.querySelector(".layout");
  layout.replaceChildren(...LAYOUTS.map((n) => new Option(`${n}×${n}`, n)));
  const show = () => {
    const pages = Math.max(1, Math.ceil(cameras.length / (size * size)));
    page = Math.min(page, pages - 1);
    layout.value = String(size);
    grid.style.setProperty("--columns", size);
    grid.dataset.layout = size;
    const first = page * size * size;
    cameras.forEach((camera, index) => {
      const entry = tiles.get(camera.name);
      const shown = index >= first && index < first + size * size;
      entry.tile.hidden = !shown;
      watch(entry, shown ? (document.fullscreenElement === entry.tile ? "main" : "sub") : null);
    });
    bar.querySelector(".page").textContent = t("page_of", { page: page + 1, pages });
    bar.querySelector(".prev").disabled = page === 0;
    bar.querySelector(".next").disabled = page >= pages - 1;
  };
  layout.addEventListener("change", () => {
    size = Number(layout.value);
    localStorage.setItem(LAYOUT_KEY, size);
    page = 0;
    show();
  });
  bar.querySelector(".prev").addEventListener("click", () => { page -= 1; show(); });
  bar.querySelector(".next").addEventListener("click", () => { page += 1; show(); });
  document.addEventListener("fullscreenchange", show);
  const mute = bar.querySelector(".mute");
  const showMute = () => {
    mute.querySelector(".label").textContent = t(isMuted() ? "alert_off" : "alert_on");
    mute.setAttribute("aria-pressed", String(isMuted()));
  };
  mute.addEventListener("click", () => {
    setMuted(!isMuted());
    showMute();
  });
  showMute();
  show();

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

  // Returns true when the event is new to the feed.
  const addToFeed = (event) => {
    const entry = tiles.get(event.camera);
    if (!entry) return false;
    const known = feed.querySelector(`[data-event="${event.id}"]`);
    const item = eventItem(event, displayName(entry.camera), known || undefined);
    if (known) return false;
    feed.prepend(item);
    while (feed.children.length > FEED_LENGTH) feed.lastElementChild.remove();
    return true;
  };

  try {
    for (const event of (await api("/api/events?limit=20")).reverse()) addToFeed(event);
  } catch { /* events arrive with detection; the feed stays empty until then */ }
  connectEvents();
  const unsubscribe = onEvent((event) => {
    const fresh = addToFeed(event);
    if (event.ack) alerts.delete(event.camera); // somebody has seen it
    else if (isAlert(event)) {
      alerts.set(event.camera, event.end_ms ? Date.now() + ALERT_HOLD_MS : Infinity);
      if (fresh) alarm();
      render();
    }
  });

  return () => {
    clearInterval(poll);
    clearInterval(redraw);
    document.removeEventListener("fullscreenchange", show);
    unsubscribe();
    for (const entry of tiles.values()) watch(entry, null);
  };
}
