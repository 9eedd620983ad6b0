// One camera: its live picture, its recordings on a timeline to play from any moment, and clip export.
import { api, clipUrl } from "./api.js";
import { badgeHtml, displayName, STATUS_POLL_MS } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { keepLive } from "./live.js";
import { mountPlayer } from "./playback.js";
import { today } from "./timefmt.js";

const START_BACK_MS = 60000; // the player opens on a minute ago
const LIVE_SOUND = new Set(["pcm_alaw", "pcm_mulaw", "aac"]); // G.711 goes over WebRTC as it is, AAC as Opus

export async function showCamera(view, name, me) {
  view.replaceChildren(document.getElementById("camera-template").content.cloneNode(true));
  applyTexts(view);
  const root = view.querySelector(".camera");
  root.querySelector(".name").textContent = name;
  const camera = await api(`/api/cameras/${encodeURIComponent(name)}`);
  root.querySelector(".name").textContent = displayName(camera);
  root.querySelector(".place").textContent = camera.location;
  root.querySelector(".badges").innerHTML = badgeHtml(camera, false);
  // its status kept current, as on the grid (an audit: a camera that went offline here froze without a word)
  const status = setInterval(async () => {
    try {
      root.querySelector(".badges").innerHTML = badgeHtml(await api(`/api/cameras/${encodeURIComponent(name)}`), false);
    } catch { /* the next look may answer */ }
  }, STATUS_POLL_MS);
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
  const playback = mountPlayer(root.querySelector(".player-slot"), [camera], Date.now() - START_BACK_MS, me);

  const form = root.querySelector(".clip");
  form.elements.day.value = today();
  form.addEventListener("submit", (submit) => {
    submit.preventDefault();
    const fields = new FormData(form);
    const [day, from, to] = [fields.get("day"), fields.get("from"), fields.get("to")];
    if (to <= from) {
      form.querySelector(".error").textContent = t("range_error");
      return;
    }
    form.querySelector(".error").textContent = "";
    const link = document.createElement("a");
    link.href = clipUrl(name, `${day}T${from}`, `${day}T${to}`);
    link.download = "";
    link.click();
  });

  return () => {
    clearInterval(status);
    playback.close();
    stopLive();
  };
}
