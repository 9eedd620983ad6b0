// One camera: live picture, a day's timeline of recordings and events, playback from any point, clip export.
import { api, clipUrl } from "./api.js";
import { badgeHtml, displayName } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { keepLive } from "./live.js";
import { clock, today } from "./timefmt.js";

const DAY_MS = 86400000;
const PLAYBACK_MS = 30 * 60000; // one click plays this much from the chosen point
const LIVE_SOUND = new Set(["pcm_alaw", "pcm_mulaw", "aac"]); // G.711 goes over WebRTC as it is, AAC as Opus

function bar(className, startMs, endMs, dayStart, title) {
  const element = document.createElement("div");
  element.className = className;
  element.style.left = `${((startMs - dayStart) / DAY_MS) * 100}%`;
  element.style.width = `${Math.max(((endMs - startMs) / DAY_MS) * 100, 0.1)}%`;
  element.title = title;
  return element;
}

async function drawTimeline(root, name, day) {
  const timeline = root.querySelector(".timeline");
  const listing = await api(`/api/cameras/${encodeURIComponent(name)}/recordings?start=${day}T00:00:00&end=${day}T23:59:59.999`);
  const dayStart = Date.parse(listing.start);
  timeline.dataset.dayStart = dayStart;
  timeline.querySelectorAll(".range, .event").forEach((element) => element.remove());
  for (const range of listing.ranges) {
    const [start, end] = [Date.parse(range.start), Date.parse(range.end)];
    timeline.append(bar("range", start, end, dayStart, `${t("recorded")} ${clock(start)}–${clock(end)}`));
  }
  try {
    const events = await api(`/api/events?camera=${encodeURIComponent(name)}&start=${dayStart / 1000}&end=${(dayStart + DAY_MS) / 1000}`);
    for (const event of events) {
      timeline.append(bar(`event ${event.type}`, event.start_ms, event.end_ms || Date.now(), dayStart,
        `${t(event.type)} ${clock(event.start_ms)}`));
    }
  } catch { /* no events yet */ }
  const note = root.querySelector(".gaps-note");
  note.textContent = listing.ranges.length ? "" : t("no_footage");
  const ticks = root.querySelector(".ticks");
  ticks.replaceChildren(...Array.from({ length: 9 }, (_, index) => {
    const tick = document.createElement("span");
    tick.style.left = `${(index / 8) * 100}%`; // set through CSSOM: the page's CSP forbids inline style attributes
    tick.textContent = `${String(index * 3).padStart(2, "0")}:00`;
    return tick;
  }));
}

export async function showCamera(view, name) {
  view.replaceChildren(document.getElementById("camera-template").content.cloneNode(true));
  applyTexts(view);
  const root = view.querySelector(".camera");
  root.querySelector(".name").textContent = name;
  const camera = await api(`/api/cameras/${encodeURIComponent(name)}`);
  root.querySelector(".name").textContent = displayName(camera);
  root.querySelector(".place").textContent = camera.location;
  root.querySelector(".badges").innerHTML = badgeHtml(camera, false);
  const live = root.querySelector(".live");
  let stopLive = keepLive(live, name, "main");
  const sound = root.querySelector(".sound");
  sound.hidden = !LIVE_SOUND.has(camera.audio_codec);
  sound.addEventListener("click", () => {
    live.muted = !live.muted; // the click is the gesture browsers want before they play sound
    sound.dataset.i18n = live.muted ? "sound_on" : "sound_off";
    sound.textContent = t(sound.dataset.i18n);
    stopLive();
    stopLive = keepLive(live, name, "main", !live.muted);
  });

  const dateInput = root.querySelector(".date");
  dateInput.value = today();
  const redraw = () => drawTimeline(root, name, dateInput.value).catch(() => {});
  dateInput.addEventListener("change", redraw);
  await drawTimeline(root, name, dateInput.value);

  const playback = root.querySelector(".playback");
  root.querySelector(".timeline").addEventListener("click", (click) => {
    const timeline = click.currentTarget;
    const box = timeline.getBoundingClientRect();
    const at = Number(timeline.dataset.dayStart) + ((click.clientX - box.left) / box.width) * DAY_MS;
    playback.src = clipUrl(name, at / 1000, (at + PLAYBACK_MS) / 1000, "playback");
    playback.play().catch(() => {});
  });

  root.querySelector(".clip").addEventListener("submit", (submit) => {
    submit.preventDefault();
    const form = new FormData(submit.currentTarget);
    const [from, to] = [form.get("from"), form.get("to")];
    if (to <= from) {
      root.querySelector(".gaps-note").textContent = t("range_error");
      return;
    }
    const link = document.createElement("a");
    link.href = clipUrl(name, `${dateInput.value}T${from}`, `${dateInput.value}T${to}`);
    link.download = "";
    link.click();
  });

  const refresh = setInterval(redraw, 60000);
  return () => {
    clearInterval(refresh);
    stopLive();
  };
}
