// Camera health (#/health): uptime, outages, tampering and the last picture of each camera, worst first.
import { api } from "./api.js";
import { line } from "./cameras.js";
import { displayName } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { duration } from "./timefmt.js";

const POLL_MS = 60000; // a week of 64 cameras costs the station about a second of CPU (design/health.md)
const DAY_CHOICES = [1, 7, 30];
const COLUMNS = ["cam_title", "status", "uptime", "outages", "tampering", "last_picture"]; // a phone's cell labels

function span(seconds) {
  return seconds < 60 ? `${Math.round(seconds)} ${t("seconds")}` : duration(seconds / 86400);
}

function tally(count, seconds) {
  return count ? t("times", { n: count, time: span(seconds) }) : t("none");
}

function row(camera) {
  const element = document.createElement("tr");
  element.dataset.camera = camera.name;
  const cells = COLUMNS.map((key) => {
    const cell = element.insertCell();
    cell.dataset.label = t(key);
    return cell;
  });
  const [who, state, uptime, outages, tampering, picture] = cells;
  who.append(line(displayName(camera), "strong"), line([camera.name, camera.location].filter(Boolean).join(" · "), "muted"));
  const status = camera.online === null ? "connecting" : camera.online ? "online" : "offline";
  state.append(line(t(status), `state ${status}`));
  const percent = camera.uptime_percent;
  uptime.className = `uptime ${percent === null || percent < 95 ? "bad" : percent < 99.5 ? "warn" : "ok"}`;
  uptime.textContent = percent === null ? t("no_data") : `${percent.toFixed(2)} %`;
  outages.append(line(tally(camera.outage_count, camera.down_seconds)));
  const latest = camera.outages.at(-1);
  if (latest) outages.append(line(latest.reason, "muted"));
  tampering.append(line(tally(camera.tamper_count, camera.tamper_seconds)));
  const kinds = [...new Set(camera.tampers.map((spell) => t(spell.type)))];
  if (kinds.length) tampering.append(line(kinds.join(", "), "muted"));
  const ago = camera.seconds_since_last_picture;
  picture.textContent = ago === null ? t("never_seen") : t("ago", { time: span(ago) });
  if (camera.last_picture) picture.title = camera.last_picture;
  return element;
}

export async function showHealth(view) {
  view.replaceChildren(document.getElementById("health-template").content.cloneNode(true));
  applyTexts(view);
  const body = view.querySelector(".health tbody");
  const days = view.querySelector("select.days");
  for (const count of DAY_CHOICES) days.add(new Option(t(count === 1 ? "last_day" : "last_n_days", { n: count }), count, false, count === 7));
  const refresh = async () => {
    const report = await api(`/api/health/cameras?days=${days.value}`);
    body.replaceChildren(...report.cameras.map(row));
    if (!report.cameras.length) body.append(line(t("no_cameras"), "notice"));
  };
  days.addEventListener("change", () => refresh().catch(() => {}));
  await refresh();
  const poll = setInterval(() => refresh().catch(() => {}), POLL_MS);
  return () => clearInterval(poll);
}
