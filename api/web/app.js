// Entry point: login, then the grid (#/), one camera (#/camera/NAME), playback (#/playback?cameras=..&at=..),
// the events page (#/events), camera health (#/health), the admins' camera page (#/cameras), motion search
// (#/motion?camera=..&at=..), a camera's detection areas for admins (#/areas?camera=..), and for duty officers
// the cases (#/cases) and one case (#/case/ID).
import { api, isStaff, UNAUTHORIZED, Unauthorized } from "./api.js";
import { showAreas } from "./areas.js";
import { showCamera } from "./camera.js";
import { showCameras } from "./cameras.js";
import { showCase, showCases } from "./cases.js";
import { disconnectEvents } from "./events.js";
import { showEventSearch } from "./eventsearch.js";
import { showGrid } from "./grid.js";
import { showHealth } from "./health.js";
import { applyTexts, t, toggleLanguage } from "./i18n.js";
import { showMotionSearch } from "./motion.js";
import { showPlayback } from "./playback.js";
import { setZone } from "./timefmt.js";

const view = document.getElementById("view");
let leave = () => {}; // leaves the screen shown; its `mayLeave`, if it has one, asks first (changes unsaved)
let signedIn = false; // a screen is shown to a logged-in user
let shownHash = location.hash; // the address of the screen shown

// Does the screen shown keep its place? Asked (changes unsaved) and kept, the address goes back to its own.
function staying() {
  if (!leave.mayLeave || leave.mayLeave()) return false;
  history.replaceState(null, "", shownHash || `${location.pathname}${location.search}`);
  return true;
}

function logIn(username, password) {
  return fetch("/api/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    credentials: "same-origin",
    body: JSON.stringify({ username, password }),
  });
}

function showForm(template) {
  leave();
  leave = () => {};
  view.replaceChildren(document.getElementById(template).content.cloneNode(true));
  applyTexts(view);
  return view.querySelector("form");
}

function showLogin(why = "") {
  signedIn = false;
  for (const id of ["logout", "cameras-link", "health-link", "playback-link", "events-link", "motion-link", "cases-link"]) {
    document.getElementById(id).hidden = true;
  }
  document.getElementById("who").textContent = "";
  const form = showForm("login-template");
  view.querySelector("#login-error").textContent = why;
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const data = new FormData(form);
    const response = await logIn(data.get("username"), data.get("password"));
    if (response.ok) {
      route();
    } else {
      view.querySelector("#login-error").textContent = response.status === 429
        ? t("too_many", { seconds: response.headers.get("Retry-After") })
        : t("bad_login");
    }
  });
}

// A generated first password: nothing else until it is changed. The change ends every session of the user,
// so the page logs in again with the new password.
function showPasswordChange(me) {
  const form = showForm("password-template");
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const data = new FormData(form);
    const password = data.get("password");
    const error = view.querySelector("#password-error");
    if (password !== data.get("again")) {
      error.textContent = t("passwords_differ");
      return;
    }
    try {
      await api(`/api/users/${encodeURIComponent(me.username)}/password`, {
        method: "POST", body: JSON.stringify({ password }),
      });
    } catch (failure) {
      error.textContent = failure.message;
      return;
    }
    await logIn(me.username, password);
    route();
  });
}

let routing = 0; // counts the routes taken: one overtaken by a later (a quick click on) shows nothing more

async function route() {
  const mine = ++routing;
  shownHash = location.hash;
  leave();
  leave = () => {};
  try {
    const me = await api("/api/auth/me");
    if (mine !== routing) return;
    signedIn = true;
    setZone(me.timezone);
    document.getElementById("who").textContent = `${me.username} (${t(`role_${me.role}`)})`;
    document.getElementById("logout").hidden = false;
    document.getElementById("cameras-link").hidden = me.role !== "admin" || me.must_change_password;
    for (const id of ["health-link", "playback-link", "events-link", "motion-link"]) {
      document.getElementById(id).hidden = me.must_change_password;
    }
    document.getElementById("cases-link").hidden = !isStaff(me) || me.must_change_password;
    if (me.must_change_password) {
      showPasswordChange(me);
      return;
    }
    const [path, search] = location.hash.slice(1).split("?");
    const camera = path.match(/^\/camera\/(.+)$/);
    const caseId = path.match(/^\/case\/(\d+)$/);
    let shown;
    if (path === "/cameras") shown = await showCameras(view, me);
    else if (path === "/health") shown = await showHealth(view);
    else if (path === "/playback") shown = await showPlayback(view, me, new URLSearchParams(search));
    else if (path === "/events") shown = await showEventSearch(view, me);
    else if (path === "/motion") shown = await showMotionSearch(view, new URLSearchParams(search));
    else if (path === "/areas") shown = await showAreas(view, me, new URLSearchParams(search));
    else if (path === "/cases") shown = await showCases(view, me);
    else if (caseId) shown = await showCase(view, me, Number(caseId[1]));
    else shown = camera ? await showCamera(view, decodeURIComponent(camera[1]), me) : await showGrid(view);
    // a screen overtaken while it loaded is left at once (its live views, polls and sockets with it): an audit
    // found a grid left this way kept its pictures open for good
    if (mine !== routing) shown?.();
    else leave = shown ?? (() => {});
  } catch (error) {
    // an overtaken screen that fails once the next one is shown (its elements gone) must not write over that one
    if (mine !== routing) return;
    if (error instanceof Unauthorized) {
      if (!view.querySelector("#login-error")) showLogin(); // else shown already, saying the session ended
    }
    else view.textContent = error.message;
  }
}

document.getElementById("lang").addEventListener("click", (click) => {
  if (staying()) return; // the screen is drawn again in the other language
  toggleLanguage();
  click.currentTarget.textContent = document.documentElement.lang === "vi" ? "EN" : "VI";
  route();
});
document.getElementById("fullscreen").addEventListener("click", () => {
  if (document.fullscreenElement) document.exitFullscreen();
  else document.documentElement.requestFullscreen();
});
document.getElementById("logout").addEventListener("click", async () => {
  if (staying()) return;
  await fetch("/api/auth/logout", { method: "POST", credentials: "same-origin" });
  disconnectEvents();
  showLogin();
});
window.addEventListener("hashchange", () => {
  if (location.hash !== shownHash && staying()) return;
  route();
});
// A session that ended while a screen was shown (its 12 hours, a logout or a password change elsewhere): the
// login form, saying so, instead of a screen frozen on its last pictures (an audit).
window.addEventListener(UNAUTHORIZED, () => {
  if (!signedIn) return;
  disconnectEvents();
  showLogin(t("session_over"));
});
// Every form is answered by script: one submitted before its handler is attached (a screen still loading)
// must not reload the page with its fields in the address.
document.addEventListener("submit", (submit) => submit.preventDefault(), true);
applyTexts();
document.getElementById("lang").textContent = document.documentElement.lang === "vi" ? "EN" : "VI";
route();
