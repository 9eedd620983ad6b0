// Calls to the station's API; the session cookie set at login authenticates every call.
import { t } from "./i18n.js";

export class Unauthorized extends Error {}
export const UNAUTHORIZED = "nvr-unauthorized"; // a window event: a call was refused for want of a session

// The API's most common refusals, said in the page's language (the rest as the API words them). The field a
// refusal names ("items[0].start: ...") is left out: the page says which field it is about.
const REFUSALS = [
  [/no footage of (.+?) (?:in the requested range|within \d+ s of that moment)/, (m) => t("err_no_footage", { camera: m[1] })],
  [/no camera named '(.+)'/, (m) => t("err_no_camera", { camera: m[1] })],
  [/end:? must be after start/, () => t("range_error")],
  [/the range is longer than the limit of (\d+) (hour|day)s?/,
    (m) => t("err_too_long", { n: m[1], unit: t(m[2] === "day" ? "days" : "hours") })],
  [/is not a time/, () => t("bad_time")],
];

export function inWords(detail) {
  for (const [pattern, say] of REFUSALS) {
    const match = pattern.exec(detail);
    if (match) return say(match);
  }
  return detail;
}

export async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "Content-Type": "application/json", ...(options.headers || {}) },
    credentials: "same-origin",
  });
  if (response.status === 401) {
    window.dispatchEvent(new Event(UNAUTHORIZED)); // the session ended: whatever screen asked, the login comes back
    throw new Unauthorized();
  }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    // our own errors carry a text; FastAPI's validation errors a list of {loc, msg}
    const detail = Array.isArray(body?.detail)
      ? body.detail.map((problem) => `${problem.loc.slice(1).join(".")}: ${problem.msg}`).join("; ")
      : body?.detail;
    const error = new Error(detail ? inWords(detail) : response.statusText);
    error.status = response.status;
    error.retryAfter = response.headers.get("Retry-After");  // seconds, on 429 and 503
    throw error;
  }
  return body;
}

export function clipUrl(camera, start, end, purpose = "download") {
  const query = new URLSearchParams({ start, end, purpose });
  return `/api/cameras/${encodeURIComponent(camera)}/clip.mp4?${query}`;
}

// Operators and administrators: cases, bookmarks and exports are theirs (households see none of it).
export function isStaff(me) {
  return me.role === "admin" || me.role === "operator";
}
