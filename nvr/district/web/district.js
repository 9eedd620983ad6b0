// The district's page: log in with a post's account, the posts with their health, the district's event feed,
// and any camera's footage of a day played through the district (which pulls it from the owning post).
import { api, Unauthorized } from "/ui/api.js";
import { addTexts, applyTexts, t, toggleLanguage } from "/ui/i18n.js";
import { EVENT_TYPES } from "/ui/timeline.js";
import { clock, dateTime, setZone, today } from "/ui/timefmt.js";
import { LivePlayer, showLiveCameras } from "/district-ui/live.js";

addTexts({
  vi: {
    district_title: "Camera an ninh cấp quận", posts: "Các trạm", post: "Trạm", reachable: "Kết nối",
    cameras_online: "Camera trực tuyến", days_kept: "Số ngày lưu", last_seen: "Lần cuối", time: "Thời điểm",
    yes: "Có", no: "Mất kết nối", unknown: "Chưa rõ", must_change_at_post: "Hãy đổi mật khẩu ở một trạm trước",
  },
  en: {
    district_title: "District security cameras", posts: "Posts", post: "Post", reachable: "Link",
    cameras_online: "Cameras online", days_kept: "Days kept", last_seen: "Last seen", time: "Time",
    yes: "Up", no: "Down", unknown: "Unknown", must_change_at_post: "Change your password at a post first",
  },
});

const REFRESH_MS = 10000;
const FIRST_CLIP_MS = 60000; // a range chosen from the day's list starts as its first minute
const $ = (selector) => document.querySelector(selector);
let stations = [];
let cameras = [];
const livePlayer = new LivePlayer($("#live-player"), (text, bad) => {
  $("#live-status").textContent = text;
  $("#live-status").classList.toggle("bad", bad);
  $("#live-player").hidden = false;
  $("#live-stop").hidden = false;
});

function cell(text, className = "") {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function row(...cells) {
  const tr = document.createElement("tr");
  tr.append(...cells);
  return tr;
}

function stationTitle(id) {
  return stations.find((station) => station.id === id)?.title ?? id;
}

function cameraTitle(station, name) {
  return cameras.find((camera) => camera.station === station && camera.name === name)?.title || name;
}

function showPosts() {
  $("#posts tbody").replaceChildren(...stations.map((station) => {
    const reach = station.reachable === null ? t("unknown") : t(station.reachable ? "yes" : "no");
    const tr = row(cell(station.title), cell(reach, station.reachable === false ? "bad" : ""),
      cell(`${station.cameras_online}/${station.cameras_total}`), cell(String(station.disk_days_kept)),
      cell(station.last_seen ? dateTime(Date.parse(station.last_seen)) : "—"));
    tr.dataset.station = station.id;
    return tr;
  }));
}

async function loadPosts() {
  [stations, cameras] = await Promise.all([api("/api/stations"), api("/api/cameras")]);
  showPosts();
  const chosen = $("#event-filters").station.value;
  $("#event-filters").station.replaceChildren(new Option(t("all"), ""),
    ...stations.map((station) => new Option(station.title, station.id)));
  $("#event-filters").station.value = chosen;
  const picked = $("#day-form").camera.value;
  showLiveCameras($("#live-cameras"), cameras, stationTitle, livePlayer);
  $("#day-form").camera.replaceChildren(...cameras.map((camera) =>
    new Option(`${stationTitle(camera.station)} · ${camera.title || camera.name}`, `${camera.station}/${camera.name}`)));
  if (picked) $("#day-form").camera.value = picked;
}

async function loadEvents() {
  const filters = $("#event-filters");
  const query = new URLSearchParams({ limit: "100" });
  if (filters.station.value) query.set("station", filters.station.value);
  if (filters.type.value) query.set("type", filters.type.value);
  const events = await api(`/api/events?${query}`);
  $("#events tbody").replaceChildren(...events.map((event) => {
    const tr = row(cell(dateTime(event.start_ms)), cell(stationTitle(event.station)),
      cell(cameraTitle(event.station, event.camera)), cell(t(event.type)));
    tr.dataset.station = event.station;
    tr.dataset.type = event.type;
    return tr;
  }));
  $("#no-events").hidden = events.length > 0;
}

function chosenCamera() {
  const [station, ...name] = $("#day-form").camera.value.split("/");
  return { station, name: name.join("/") };
}

function cameraPath({ station, name }) {
  return `/api/stations/${encodeURIComponent(station)}/cameras/${encodeURIComponent(name)}`;
}

async function loadDay(event) {
  event?.preventDefault();
  const day = $("#day-form").day.value;
  const found = await api(`${cameraPath(chosenCamera())}/recordings?${new URLSearchParams({
    start: `${day}T00:00:00`, end: `${day}T23:59:59` })}`);
  $("#ranges").replaceChildren(...found.ranges.map((range) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "ghost";
    const [from, to] = [Date.parse(range.start), Date.parse(range.end)];
    button.textContent = `${clock(from)} – ${clock(to)}`;
    button.addEventListener("click", () => {
      $("#clip-form").from.value = clock(from);
      $("#clip-form").to.value = clock(Math.min(to, from + FIRST_CLIP_MS));
    });
    item.append(button);
    return item;
  }));
  $("#no-footage").hidden = found.ranges.length > 0;
}

function play(event) {
  event.preventDefault();
  const day = $("#day-form").day.value;
  const { from, to } = $("#clip-form");
  $("#clip-error").textContent = "";
  if (to.value <= from.value) {
    $("#clip-error").textContent = t("range_error");
    return;
  }
  const query = new URLSearchParams({ start: `${day}T${from.value}`, end: `${day}T${to.value}` });
  $("#player").src = `${cameraPath(chosenCamera())}/clip.mp4?${query}`;
  $("#player").play().catch(() => {}); // a refused clip is told by the element's error event
}

function guarded(load) {
  return () => load().catch((error) => {
    if (error instanceof Unauthorized) showLogin();
  });
}

function showLogin() {
  $("#district").hidden = true;
  $("#logout").hidden = true;
  $("#who").textContent = "";
  $("#login-form").hidden = false;
}

async function start() {
  let me;
  try {
    me = await api("/api/auth/me");
  } catch (error) {
    if (error instanceof Unauthorized) showLogin();
    else $("#login-error").textContent = error.status === 403 ? t("must_change_at_post") : error.message;
    if (!(error instanceof Unauthorized)) $("#login-form").hidden = false;
    return;
  }
  setZone(me.timezone);
  $("#who").textContent = me.username;
  $("#login-form").hidden = true;
  $("#logout").hidden = false;
  $("#district").hidden = false;
  if (!$("#day-form").day.value) $("#day-form").day.value = today();
  await loadPosts();
  await loadEvents();
}

async function logIn(event) {
  event.preventDefault();
  const form = $("#login-form");
  $("#login-error").textContent = "";
  try {
    await api("/api/auth/login", { method: "POST",
      body: JSON.stringify({ username: form.username.value, password: form.password.value }) });
  } catch (error) {
    const seconds = error.status === 429 ? error.retryAfter : null;
    $("#login-error").textContent = seconds ? t("too_many", { seconds }) : t("bad_login");
    return;
  }
  form.password.value = "";
  await start();
}

$("#login-form").addEventListener("submit", logIn);
$("#event-filters").addEventListener("change", guarded(loadEvents));
$("#day-form").addEventListener("submit", (event) => loadDay(event).catch((error) => {
  $("#clip-error").textContent = error.message;
}));
$("#clip-form").addEventListener("submit", play);
$("#player").addEventListener("error", () => { $("#clip-error").textContent = t("cannot_play"); });
function languageButton() {
  $("#lang").textContent = document.documentElement.lang === "vi" ? "EN" : "VI";
}

function typeOptions() {
  const chosen = $("#event-filters").type.value;
  $("#event-filters").type.replaceChildren(new Option(t("all"), ""), ...EVENT_TYPES.map((type) => new Option(t(type), type)));
  $("#event-filters").type.value = chosen;
}

$("#lang").addEventListener("click", () => {
  toggleLanguage();
  languageButton();
  typeOptions();
  if (!$("#district").hidden) guarded(loadPosts)().then(guarded(loadEvents));
});
$("#live-stop").addEventListener("click", () => {
  livePlayer.stop();
  $("#live-status").textContent = "";
  $("#live-player").hidden = true;
  $("#live-stop").hidden = true;
});
$("#logout").addEventListener("click", async () => {
  livePlayer.stop();
  await api("/api/auth/logout", { method: "POST" }).catch(() => {});
  showLogin();
});
setInterval(() => {
  if (!$("#district").hidden) guarded(loadPosts)().then(guarded(loadEvents));
}, REFRESH_MS);
applyTexts();
languageButton();
typeOptions();
start();
