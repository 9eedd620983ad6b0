// One camera's recorded footage in a <video>, through Media Source Extensions. Clips of a few minutes next
// to the play head (the API's clip.mp4, cut by stream copy) are appended at their wall time, so the video's
// currentTime is the wall time in seconds since 1970: the shared clock is every video's time as it is, and
// any moment loaded is shown at once. Clips far from the head are dropped again.
import { api, clipUrl } from "./api.js";

// Any H.264 (the clip's own header describes the stream), with the AAC track that a camera with a microphone
// has in its clips.
const TYPE = 'video/mp4; codecs="avc1.640028"';
const TYPE_WITH_SOUND = 'video/mp4; codecs="avc1.640028, mp4a.40.2"';
const CLIP_START = "X-Clip-Start-Ms";
const SLACK_MS = 250; // buffered ranges closer than this are one
const RETRY_MS = 3000; // a moment that gave no footage (being recorded, or deleted meanwhile) is asked again after this
const KEEP_BEHIND_MS = 60000; // footage kept behind the head, for stepping back

function merged(ranges) {
  const out = [];
  for (const [start, end] of ranges) {
    const last = out[out.length - 1];
    if (last && start - last[1] <= SLACK_MS) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

export class RecordedVideo {
  constructor(video, camera, sound) {
    this.video = video;
    this.camera = camera;
    this.keyframes = []; // wall times, in order
    this.loading = null; // the AbortController of the clip being loaded
    this.missing = []; // [start, end, until]: asked for lately and not there
    this.buffer = null;
    this.queue = Promise.resolve(); // the buffer's changes, one after the other
    this.source = new MediaSource();
    this.source.addEventListener("sourceopen", () => { this.buffer = this.source.addSourceBuffer(sound ? TYPE_WITH_SOUND : TYPE); }, { once: true });
    this.url = URL.createObjectURL(this.source);
    video.src = this.url;
  }

  close() {
    this.loading?.abort();
    this.buffer = null;
    URL.revokeObjectURL(this.url);
    this.video.removeAttribute("src");
    this.video.load();
  }

  ranges() {
    try {
      const { buffered } = this.buffer;
      return merged(Array.from({ length: buffered.length }, (_, i) => [buffered.start(i) * 1000, buffered.end(i) * 1000]));
    } catch {
      return []; // not open yet, or closed by a decoding error
    }
  }

  // The loaded span holding `ms`, or null.
  spanAt(ms) {
    return this.ranges().find(([start, end]) => start <= ms + 1 && ms < end) || null;
  }

  isMissing(ms) {
    const now = performance.now();
    this.missing = this.missing.filter(([, , until]) => until > now);
    return this.missing.some(([start, end]) => start <= ms && ms < end);
  }

  // Keep the footage from `ms` up to `aheadMs` in `direction` (+1 or -1) loaded, in clips of `windowMs`;
  // `footage` says what was recorded: nothing is asked for in a gap.
  fill(ms, direction, windowMs, aheadMs, footage) {
    if (!this.buffer || this.loading) return;
    const span = this.spanAt(ms);
    const edge = span ? span[direction > 0 ? 1 : 0] : ms;
    const from = footage.footageFrom(this.camera, edge, direction);
    if (from === null || Math.abs(from - ms) >= aheadMs || this.isMissing(from)) return;
    const [start, end] = direction > 0 ? [from, from + windowMs] : [from - windowMs, from];
    this.load(start, end, from, direction).then(() => this.evict(ms, direction, aheadMs + windowMs));
  }

  async load(start, end, wanted, direction) {
    const controller = new AbortController();
    this.loading = controller;
    try {
      const [response] = await Promise.all([
        fetch(clipUrl(this.camera, start / 1000, end / 1000, "playback"),
          { credentials: "same-origin", signal: controller.signal }),
        this.loadKeyframes(start, end, controller.signal),
      ]);
      if (!response.ok) throw new Error(`${this.camera}: ${response.status}`);
      const offset = Number(response.headers.get(CLIP_START)) / 1000;
      await this.change((buffer) => {
        buffer.abort(); // a clip cut short before this one left the parser inside a fragment
        buffer.timestampOffset = offset;
      }, false);
      const reader = response.body.getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        await this.change((buffer) => buffer.appendBuffer(chunk.value));
      }
    } catch {
      // aborted (closed, or the head jumped away), refused, or the footage went meanwhile
    } finally {
      this.loading = null;
    }
    const span = this.spanAt(wanted);
    const gained = span && (direction > 0 ? span[1] > wanted + SLACK_MS : span[0] < wanted - SLACK_MS);
    if (!gained) this.missing.push([wanted - SLACK_MS, wanted + SLACK_MS, performance.now() + RETRY_MS]);
  }

  async loadKeyframes(start, end, signal) {
    const query = `start=${start / 1000}&end=${end / 1000}`;
    const { keyframes_ms: found } = await api(
      `/api/cameras/${encodeURIComponent(this.camera)}/keyframes?${query}`, { signal });
    this.keyframes = [...new Set([...this.keyframes, ...found])].sort((a, b) => a - b);
  }

  // The keyframe at or before `ms`, loaded with it: the picture shown without decoding any other.
  keyframeAtOrBefore(ms) {
    const span = this.spanAt(ms);
    const found = this.keyframes.findLast((keyframe) => keyframe <= ms);
    return span && found !== undefined && found >= span[0] - SLACK_MS ? found : ms;
  }

  // Run `action` on the source buffer after the changes before it; `waits`: it starts an update (append,
  // remove) that is done at its "updateend".
  change(action, waits = true) {
    const run = () => new Promise((resolve, reject) => {
      const buffer = this.buffer;
      if (!buffer) {
        reject(new Error("closed"));
        return;
      }
      const finish = (event) => {
        buffer.removeEventListener("updateend", finish);
        buffer.removeEventListener("error", finish);
        if (event?.type === "error") reject(new Error(`${this.camera}: the footage could not be read`));
        else resolve();
      };
      try {
        action(buffer);
      } catch (error) {
        reject(error);
        return;
      }
      if (!waits) {
        resolve();
        return;
      }
      buffer.addEventListener("updateend", finish);
      buffer.addEventListener("error", finish);
    });
    const done = this.queue.then(run);
    this.queue = done.catch(() => {});
    return done;
  }

  // Drop what is far from the head: behind it what stepping back will not reach, ahead what is not needed soon.
  evict(ms, direction, aheadMs) {
    const behind = Math.max(KEEP_BEHIND_MS, aheadMs / 2);
    const [keepFrom, keepTo] = direction > 0 ? [ms - behind, ms + aheadMs] : [ms - aheadMs, ms + behind];
    this.keyframes = this.keyframes.filter((keyframe) => keyframe >= keepFrom && keyframe <= keepTo);
    for (const [start, end] of this.ranges()) {
      for (const [from, to] of [[start, Math.min(end, keepFrom)], [Math.max(start, keepTo), end]]) {
        if (to - from > SLACK_MS) this.change((buffer) => buffer.remove(from / 1000, to / 1000)).catch(() => {});
      }
    }
  }
}
