// Entry point: login, then the grid (#/), one camera (#/camera/NAME), playback (#/playback?cameras=..&at=..),
// the events page (#/events) or the admins' camera page (#/cameras).
import { api, Unauthorized } from "./api.js";
import { showCamera } from "./camera.js";
import { showCameras } from "./cameras.js";
import { disconnectEvents } from "./events.js";
import { showEventSearch } from "./eventsearch.js";
import { showGrid } from "./grid.js";
import { applyTexts, t, toggleLanguage } from "./i18n.js";
import { showPlayback } from "./playback.js";
import { setZone } from "./timefmt.js";

const view = document.getElementById("view");
let leave = () => {};

function showLogin() {
  leave();
  leave = () => {};
  for (const id of ["logout", "cameras-link", "playback-link", "events-link"]) document.getElementById(id).hidden = true;
  document.getElementById("who").textContent = "";
  view.replaceChildren(document.getElementById("login-template").content.cloneNode(true));
  applyTexts(view);
  const form = view.querySelector("#login-form");
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const data = new FormData(form);
    const response = await fetch("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ username: data.get("username"), password: data.get("password") }),
    });
    if (response.ok) {
      route();
    } else {
      view.querySelector("#login-error").textContent = t(response.status === 429 ? "too_many" : "bad_login");
    }
  });
}

async function route() {
  leave();
  leave = () => {};
  try {
    const me = await api("/api/auth/me");
    setZone(me.timezone);
    document.getElementById("who").textContent = `${me.username} (${me.role})`;
    for (const id of ["logout", "playback-link", "events-link"]) document.getElementById(id).hidden = false;
    document.getElementById("cameras-link").hidden = me.role !== "admin";
    const [path, search] = location.hash.slice(1).split("?");
    const camera = path.match(/^\/camera\/(.+)$/);
    if (path === "/cameras") leave = await showCameras(view, me);
    else if (path === "/playback") leave = await showPlayback(view, me, new URLSearchParams(search));
    else if (path === "/events") leave = await showEventSearch(view, me);
    else leave = camera ? await showCamera(view, decodeURIComponent(camera[1])) : await showGrid(view);
  } catch (error) {
    if (error instanceof Unauthorized) showLogin();
    else view.textContent = error.message;
  }
}

document.getElementById("lang").addEventListener("click", (click) => {
  toggleLanguage();
  click.currentTarget.textContent = document.documentElement.lang === "vi" ? "EN" : "VI";
  route();
});
document.getElementById("fullscreen").addEventListener("click", () => {
  if (document.fullscreenElement) document.exitFullscreen();
  else document.documentElement.requestFullscreen();
});
document.getElementById("logout").addEventListener("click", async () => {
  await fetch("/api/auth/logout", { method: "POST", credentials: "same-origin" });
  disconnectEvents();
  showLogin();
});
window.addEventListener("hashchange", route);
applyTexts();
document.getElementById("lang").textContent = document.documentElement.lang === "vi" ? "EN" : "VI";
route();
