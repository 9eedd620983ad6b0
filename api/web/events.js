// The live event stream (WebSocket). Listeners get every event update; the socket reconnects by itself.
import { UNAUTHORIZED } from "./api.js";

const SESSION_ENDED = 4401; // the station's close code when the session is over (api/connections.py)
const listeners = new Set();
let socket = null;
let retryMs = 1000;

export function onEvent(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function connectEvents() {
  if (socket) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/api/events/ws`);
  socket.addEventListener("open", () => { retryMs = 1000; });
  socket.addEventListener("message", (message) => {
    const update = JSON.parse(message.data);
    for (const listener of listeners) listener(update);
  });
  socket.addEventListener("close", (closed) => {
    socket = null;
    if (closed.code === SESSION_ENDED) {  // logged out, password changed: no use trying again
      window.dispatchEvent(new Event(UNAUTHORIZED));
      return;
    }
    setTimeout(connectEvents, retryMs);
    retryMs = Math.min(retryMs * 2, 10000); // the grid's poll brings what was missed meanwhile
  });
}

export function disconnectEvents() {
  const current = socket;
  socket = null;
  listeners.clear();
  current?.close();
}
