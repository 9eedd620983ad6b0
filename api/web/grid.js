// The station screen: the cameras the user may see, live, filling the screen a page of N x N at a time (2x2
// to 6x6), with status badges, alerts (a highlight and a sound that can be muted), any camera full screen
// (its main stream), and the event feed, whose items play the event's footage.
import { alarm, isMuted, setMuted } from "./alarm.js";
import { api, Unauthorized } from "./api.js";
import { eventItem, eventVersion } from "./eventlist.js";
import { connectEvents, onEvent } from "./events.js";
import { applyTexts, t } from "./i18n.js";
import { keepLive } from "./live.js";

export const STATUS_POLL_MS = 5000; // cameras' status, and the latest events (what the event stream missed while down)
const ALERT_HOLD_MS = 10000; // a tile stays highlighted this long after its motion event ends
const ALARM_GAP_MS = 2000; // a burst of events sounds once
const SEEN_KEPT = 5000; // event ids remembered, so that an update of one is no new alarm
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

function escaped(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function badgeHtml(camera, alerting) {
  const badges = [];
  // why it is offline, as the camera's status says it (an audit: operators saw "offline" and never why)
  const why = camera.status === "offline" && camera.last_error ? ` title="${escaped(camera.last_error)}"` : "";
  if (camera.status !== "online") badges.push(`<span class="badge offline"${why}>${t(camera.status === "offline" ? "offline" : "connecting")}</span>`);
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
  // camera -> (event id -> time its highlight ends, Infinity while open): an acknowledgement ends its own event's
  const alerts = new Map();
  const seen = new Set(); // the events this screen has had
  const unreachable = document.createElement("div");
  unreachable.className = "unreachable";
  unreachable.hidden = true;
  unreachable.setAttribute("role", "alert");
  view.querySelector(".wall").prepend(unreachable);

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
      const alerting = [...(alerts.get(name)?.values() ?? [])].some((until) => until > now);
      tile.classList.toggle("alerting", alerting);
      tile.classList.toggle("offline", camera.status !== "online");
      tile.querySelector(".badges").innerHTML = badgeHtml(camera, alerting);
    }
  };
  // An event the feed has not had goes in by its id (newest first); an update of one it has changes it in place,
  // and one that has left the feed stays out (an audit: the end of an old event came back on top, sounding).
  const showInFeed = (event, fresh) => {
    const entry = tiles.get(event.camera);
    if (!entry) return;
    const known = feed.querySelector(`[data-event="${event.id}"]`);
    if (known) {
      if (known.dataset.version !== eventVersion(event)) eventItem(event, displayName(entry.camera), known);
      return;
    }
    if (!fresh) return;
    const after = [...feed.children].find((other) => Number(other.dataset.event) < event.id);
    feed.insertBefore(eventItem(event, displayName(entry.camera)), after ?? null);
    while (feed.children.length > FEED_LENGTH) feed.lastElementChild.remove();
  };
  let lastAlarm = 0;
  // Returns true for an alert the screen has not had: its sound is due.
  const note = (event) => {
    const fresh = !seen.has(event.id);
    seen.add(event.id);
    if (seen.size > SEEN_KEPT) seen.delete(seen.values().next().value);
    showInFeed(event, fresh);
    const held = alerts.get(event.camera) ?? new Map();
    alerts.set(event.camera, held);
    const ended = event.end_ms ? Math.min(Date.now(), event.end_ms) + ALERT_HOLD_MS : Infinity;
    if (event.ack || !isAlert(event) || ended <= Date.now()) held.delete(event.id); // seen to, or long over
    else held.set(event.id, ended);
    return fresh && held.has(event.id);
  };
  const sound = () => {
    if (Date.now() - lastAlarm < ALARM_GAP_MS) return;
    lastAlarm = Date.now();
    alarm();
  };
  const latestEvents = async () => (await api(`/api/events?limit=${FEED_LENGTH}`)).reverse(); // oldest first

  // Every poll: the cameras' status (a camera added or removed rebuilds the grid), and the latest events, which
  // bring what the event stream missed while the station was away, and the ends and acknowledgements with it.
  const refresh = async () => {
    let cameraList;
    try {
      cameraList = await api("/api/cameras");
      unreachable.hidden = true;
    } catch (failure) {
      if (failure instanceof Unauthorized) throw failure;
      unreachable.textContent = t("station_unreachable");
      unreachable.hidden = false;
      return;
    }
    const names = new Set(cameraList.map((camera) => camera.name));
    if (names.size !== tiles.size || [...names].some((name) => !tiles.has(name))) {
      window.dispatchEvent(new HashChangeEvent("hashchange")); // the route shows the grid again
      return;
    }
    for (const camera of cameraList) tiles.get(camera.name).camera = camera;
    if ((await latestEvents()).map(note).some(Boolean)) sound();
    render();
  };
  const poll = setInterval(() => refresh().catch(() => {}), STATUS_POLL_MS);
  const redraw = setInterval(render, 1000);
  render();

  try {
    (await latestEvents()).forEach(note); // what is open now is highlighted, without a sound
  } catch { /* events arrive with detection; the feed stays empty until then */ }
  render();
  connectEvents();
  const unsubscribe = onEvent((event) => {
    if (note(event)) sound();
    render();
  });

  return () => {
    clearInterval(poll);
    clearInterval(redraw);
    document.removeEventListener("fullscreenchange", show);
    unsubscribe();
    for (const entry of tiles.values()) watch(entry, null);
  };
}
