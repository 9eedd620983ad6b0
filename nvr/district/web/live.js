// Any camera's live picture at the district: the post's live MP4 relayed by the district, appended to a
// <video> through Media Source Extensions as its fragments arrive. The buffer is kept short and the play head
// near its live edge: a picture seconds old is no live view, and a link that stalled must not leave it behind.
import { addTexts, t } from "/ui/i18n.js";

addTexts({
  vi: { live: "Trực tiếp", live_title: "Xem trực tiếp", stop_live: "Dừng", live_failed: "Không xem trực tiếp được: {why}",
    live_reconnecting: "Mất hình, đang kết nối lại…", live_watching: "Đang xem trực tiếp: {camera}" },
  en: { live: "Live", live_title: "Live view", stop_live: "Stop", live_failed: "The live view failed: {why}",
    live_reconnecting: "The picture stopped; reconnecting…", live_watching: "Live: {camera}" },
});

const TYPE = 'video/mp4; codecs="avc1.640028"'; // any H.264: the stream's own header describes it
const MAX_LAG_S = 1.5; // further behind the live edge than this: jump to it
const LAG_S = 0.3; // where to jump: just behind the edge, so a late fragment does not stall the picture
const KEEP_BEHIND_S = 10; // what is kept behind the play head
const RETRY_MS = 3000; // the stream ended without being asked to (the post's link, the camera): try again

export class LivePlayer {
  constructor(video, onStatus) {
    this.video = video;
    this.onStatus = onStatus; // (text, isError)
    this.controller = null;
    this.retry = null;
  }

  // Play `url` (a district live.mp4) until stop() or another play().
  play(url, label) {
    this.stop();
    const controller = new AbortController();
    this.controller = controller;
    this.onStatus(t("live_watching", { camera: label }), false);
    this.run(url, controller.signal).then((ended) => {
      if (!ended || controller.signal.aborted) return;
      this.onStatus(t("live_reconnecting"), true);
      this.retry = setTimeout(() => { if (!controller.signal.aborted) this.play(url, label); }, RETRY_MS);
    }, (error) => {
      if (!controller.signal.aborted) this.onStatus(t("live_failed", { why: error.message }), true);
    });
  }

  stop() {
    clearTimeout(this.retry);
    this.controller?.abort();
    this.controller = null;
    const old = this.video.src;
    this.video.removeAttribute("src");
    this.video.load();
    if (old.startsWith("blob:")) URL.revokeObjectURL(old);
  }

  // Resolves true when the stream ended by itself, rejects when it was refused or broke.
  async run(url, signal) {
    const source = new MediaSource();
    this.video.src = URL.createObjectURL(source);
    await new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
    const response = await fetch(url, { credentials: "same-origin", signal });
    if (!response.ok) {
      const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
      throw new Error(body?.detail || `${response.status}`);
    }
    const buffer = source.addSourceBuffer(TYPE);
    buffer.mode = "segments";
    const reader = response.body.getReader();
    this.video.play().catch(() => {}); // muted: allowed; it starts as soon as there is a picture
    try {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        await append(buffer, chunk.value);
        this.keepNearEdge(buffer);
      }
    } catch (error) {
      if (signal.aborted) return false;
      throw error;
    }
    return true;
  }

  keepNearEdge(buffer) {
    const { buffered } = buffer;
    if (!buffered.length) return;
    const end = buffered.end(buffered.length - 1);
    const video = this.video;
    if (video.currentTime < buffered.start(0) || end - video.currentTime > MAX_LAG_S) {
      video.currentTime = Math.max(buffered.start(buffered.length - 1), end - LAG_S);
    }
    if (video.currentTime - buffered.start(0) > KEEP_BEHIND_S * 2 && !buffer.updating) {
      buffer.remove(buffered.start(0), video.currentTime - KEEP_BEHIND_S);
    }
  }
}

// Append one chunk, after the buffer's update before it (a remove) is done.
async function append(buffer, data) {
  if (buffer.updating) await new Promise((resolve) => buffer.addEventListener("updateend", resolve, { once: true }));
  await new Promise((resolve, reject) => {
    const done = (event) => {
      buffer.removeEventListener("updateend", done);
      buffer.removeEventListener("error", done);
      if (event.type === "error") reject(new Error(t("cannot_play")));
      else resolve();
    };
    buffer.addEventListener("updateend", done);
    buffer.addEventListener("error", done);
    buffer.appendBuffer(data);
  });
}

// The cameras `list` (of the district's /api/cameras) in `element`, each with its post and a live button that
// plays it in `player`.
export function showLiveCameras(element, list, stationTitle, player) {
  element.replaceChildren(...list.map((camera) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    const label = `${stationTitle(camera.station)} · ${camera.title || camera.name}`;
    button.type = "button";
    button.className = "ghost";
    button.textContent = `${t("live")}: ${label}`;
    button.dataset.camera = `${camera.station}/${camera.name}`;
    button.addEventListener("click", () => player.play(
      `/api/stations/${encodeURIComponent(camera.station)}/cameras/${encodeURIComponent(camera.name)}/live.mp4`, label));
    item.append(button);
    return item;
  }));
}
