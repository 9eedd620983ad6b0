// Calls to the station's API; the session cookie set at login authenticates every call.
export class Unauthorized extends Error {}

export async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "Content-Type": "application/json", ...(options.headers || {}) },
    credentials: "same-origin",
  });
  if (response.status === 401) throw new Unauthorized();
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    // our own errors carry a text; FastAPI's validation errors a list of {loc, msg}
    const detail = Array.isArray(body?.detail)
      ? body.detail.map((problem) => `${problem.loc.slice(1).join(".")}: ${problem.msg}`).join("; ")
      : body?.detail;
    const error = new Error(detail || response.statusText);
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
