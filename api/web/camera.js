// One camera: its live picture, its recordings on a timeline to play from any moment, and clip export.
import { api, clipUrl } from "./api.js";
import { badgeHtml, displayName } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { keepLive } from "./live.js";
import { mountPlayer } from "./playback.js";
import { today } from "./timefmt.js";

const START_BACK_MS = 60000; // the player opens on a minute ago

export async function showCamera(view, name) {
  view.replaceChildren(document.getElementById("camera-template").content.cloneNode(true));
  applyTexts(view);
  const root = view.querySelector(".camera");
  root.querySelector(".name").textContent = name;
  const camera = await api(`/api/cameras/${encodeURIComponent(name)}`);
  root.querySelector(".name").textContent = displayName(camera);
  root.querySelector(".place").textContent = camera.location;
  root.querySelector(".badges").innerHTML = badgeHtml(camera, false);
  const stopLive = keepLive(root.querySelector(".live"), name, "main");
  const playback = mountPlayer(root.querySelector(".player-slot"), [camera], Date.now() - START_BACK_MS);

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
    playback.close();
    stopLive();
  };
}
