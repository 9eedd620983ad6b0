// What was recorded and what happened, for the cameras of one playback: recorded ranges, gaps with their
// reasons and events; for duty officers also their bookmarks and the ranges locked by open cases. Loaded for a span around what is looked at, again when the look moves out of it, and
// every few seconds while the span reaches now (the recording grows). Listeners hear "change".
import { api } from "./api.js";

const REFRESH_MS = 15000;
const MARGIN_MS = 3600000; // loaded beyond what is looked at, at least this much on each side
const LIVE_MS = 60000; // a span ending this close to its loading time reaches now
const MAX_SPAN_MS = 3 * 86400000; // what is loaded grows to cover every look (the head, the timeline) up to this

function search(spans, ms) {
  // index of the last span starting at or before ms, or -1
  let [low, high] = [0, spans.length - 1];
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (spans[middle][0] <= ms) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

export class Footage extends EventTarget {
  // `staff`: an operator or administrator (bookmarks and cases are theirs alone).
  constructor(cameras, staff = false) {
    super();
    this.cameras = cameras;
    this.staff = staff;
    this.bookmarks = []; // API objects, of these cameras
    this.locks = []; // { camera, start, end, case, title }: items of open cases
    this.ranges = new Map(); // camera -> [[start, end], ...] in time order
    this.gaps = new Map(); // camera -> [[start, end, reason], ...]
    this.clockSteps = new Map(); // camera -> [[since, before, seconds], ...]: stamps in (since, before] are late by seconds
    this.events = [];
    this.failed = new Set(); // cameras whose last load failed: what is shown of them is older, or nothing
    this.span = null; // { start, end, at }: what is loaded, and when it was
    this.pending = null;
  }

  ensure(start, end) {
    const span = this.span;
    const covered = span && span.start <= start && span.end >= end;
    const stale = span && span.end > span.at - LIVE_MS && Date.now() - span.at > REFRESH_MS;
    if (this.pending || (covered && !stale)) return;
    const margin = Math.max(end - start, MARGIN_MS);
    let [from, to] = [start - margin, Math.min(end + margin, Date.now() + LIVE_MS)];
    if (span && Math.max(to, span.end) - Math.min(from, span.start) <= MAX_SPAN_MS) {
      [from, to] = [Math.min(from, span.start), Math.max(to, span.end)];
    }
    this.pending = this.load(from, to)
      .catch(() => {}) // kept as it was; the next look asks again
      .finally(() => { this.pending = null; });
  }

  // Load the span again now (a bookmark or a case changed).
  reload() {
    if (!this.span) return;
    const { start, end } = this.span;
    this.pending = Promise.resolve(this.pending).then(() => this.load(start, end)).catch(() => {})
      .finally(() => { this.pending = null; });
  }

  async load(start, end) {
    const query = `start=${start / 1000}&end=${end / 1000}`;
    // each camera asked on its own (a busy post's others must not take the events' limit), and settled on its own:
    // one that fails (removed meanwhile, refused, a moment's error) keeps what was known of it, the others are shown
    const ask = (camera) => {
      const name = encodeURIComponent(camera);
      return Promise.all([
        api(`/api/cameras/${name}/recordings?${query}`),
        api(`/api/events?camera=${name}&${query}&limit=5000`),
        this.staff ? api(`/api/bookmarks?camera=${name}&${query}&limit=5000`) : [],
      ]);
    };
    const [answers, cases] = await Promise.all([
      Promise.allSettled(this.cameras.map(ask)),
      this.staff ? api("/api/cases?status=open") : [],
    ]);
    const rejected = answers.filter((answer) => answer.status === "rejected");
    if (answers.length && rejected.length === answers.length) throw rejected[0].reason; // all kept as it was
    this.locks = cases.flatMap((found) => found.items.filter((item) => this.cameras.includes(item.camera))
      .map((item) => ({ camera: item.camera, start: item.start_ms, end: item.end_ms, case: found.id, title: found.title })));
    this.failed = new Set();
    answers.forEach((answer, k) => {
      const camera = this.cameras[k];
      if (answer.status === "rejected") {
        this.failed.add(camera);
        return;
      }
      const [listing, events, bookmarks] = answer.value;
      this.ranges.set(camera, listing.ranges.map((r) => [Date.parse(r.start), Date.parse(r.end)]));
      this.gaps.set(camera, listing.gaps.map((g) => [Date.parse(g.start), Date.parse(g.end), g.reason]));
      this.clockSteps.set(camera, (listing.clock_steps || [])
        .map((step) => [Date.parse(step.since), Date.parse(step.before), step.seconds]));
      this.events = this.events.filter((event) => event.camera !== camera)
        .concat(events.filter((event) => event.camera === camera));
      this.bookmarks = this.bookmarks.filter((mark) => mark.camera !== camera)
        .concat(bookmarks.filter((mark) => mark.camera === camera));
    });
    this.bookmarks.sort((a, b) => a.at_ms - b.at_ms);
    this.span = { start, end, at: Date.now() };
    this.dispatchEvent(new Event("change"));
  }

  // Whether what is known of `camera` may be out of date or missing: its last load failed.
  unknown(camera) {
    return this.failed.has(camera);
  }

  // Whether `ms` is within what is loaded (before that, nothing is known of it: neither footage nor gap).
  covers(ms) {
    return Boolean(this.span) && this.span.start <= ms && ms <= this.span.end;
  }

  recordedAt(camera, ms) {
    const spans = this.ranges.get(camera) || [];
    const index = search(spans, ms);
    return index >= 0 && ms < spans[index][1];
  }

  gapAt(camera, ms) {
    const spans = this.gaps.get(camera) || [];
    const index = search(spans, ms);
    return index >= 0 && ms < spans[index][1] ? spans[index][2] : null;
  }

  // How many seconds later than its stamp footage stamped `ms` was recorded (the station's clock was set forward
  // after it): 0 for footage stamped on the right clock.
  lateBy(camera, ms) {
    return (this.clockSteps.get(camera) || []).filter(([since, before]) => since < ms && ms <= before)
      .reduce((sum, [, , seconds]) => sum + seconds, 0);
  }

  // The first recorded moment from `ms` on in `direction` (+1 later, -1 earlier), or null.
  footageFrom(camera, ms, direction) {
    if (this.recordedAt(camera, ms)) return ms;
    const spans = this.ranges.get(camera) || [];
    const index = search(spans, ms);
    if (direction > 0) return index + 1 < spans.length ? spans[index + 1][0] : null;
    return index >= 0 ? spans[index][1] - 1 : null;
  }
}
