// A timeline worth scrubbing: a row per camera with its recorded ranges, its gaps (the reason under the
// pointer) and its events by type and colour; the play head and now. Zoom from a day to a minute with the
// wheel, a pinch, the + and - keys or buttons; pan with a sideways wheel, two fingers or the arrow keys. Under
// the pointer, hovering or dragging, the keyframe of that moment; a click, or the end of a drag, seeks there.
// For duty officers also their bookmarks (a mark with its note under the pointer), the footage locked by open
// cases (a stripe along the row's top) and the range marked for a case (shaded). Footage stamped before the station's
// clock was set forward is hatched, and the tip gives how much later it was really recorded.
import { t } from "./i18n.js";
import { clock, dateTime, dayStart, duration } from "./timefmt.js";

const MIN_SPAN_MS = 60000;
const MAX_SPAN_MS = 86400000;
const TICK_STEPS_MS = [1e3, 5e3, 1e4, 3e4, 6e4, 3e5, 6e5, 18e5, 36e5, 108e5, 216e5]; // each divides a day
const MIN_TICK_PX = 80;
const ROW_PX = 22;
const AXIS_PX = 20;
const DRAG_PX = 4; // a pointer moving less than this between down and up clicked
const KEY_ZOOM = 2;
const KEY_PAN = 0.2; // of the view's width
const FOLLOW_AT = 0.2; // a head leaving the view puts it back this far from the edge it comes from
const EVENT_PART = 0.4; // of a row, at its bottom: the events
const LOCK_PX = 3; // the locked stripe along a row's top
const NEAR_PX = 4; // a bookmark this close to the pointer is named in the tip
const HATCH_PX = 6; // the spacing of the hatching over footage stamped on a wrong clock

export const EVENT_TYPES = ["motion", "tamper_covered", "tamper_moved", "tamper_defocus", "video_loss", "night_mode",
  "day_mode"];

export class Timeline {
  // `root`: the timeline's element (its template); `cameras`: API objects; `onSeek(ms)`: a moment was chosen.
  constructor(root, footage, cameras, head, onSeek) {
    this.root = root;
    this.footage = footage;
    this.cameras = cameras;
    this.head = head;
    this.onSeek = onSeek;
    this.canvas = root.querySelector("canvas");
    this.tip = root.querySelector(".scrub-tip");
    this.view = { start: head - 30 * MIN_SPAN_MS, end: head + 30 * MIN_SPAN_MS };
    this.pointers = new Map();
    this.drag = null; // { x, row, moved } while one pointer is down
    this.pinch = null; // { distance, middle, view } while two are
    this.preview = null; // the moment under a dragging pointer
    this.selection = null; // { start, end }: the range marked for a case (either may be null while marking)
    this.drawn = 0;
    this.nowX = 0;
    this.legend();
    this.bind();
    this.onChange = () => {
      if (this.legendSteps !== [...footage.clockSteps.values()].some((steps) => steps.length > 0)) this.legend();
      this.invalidate();
    };
    footage.addEventListener("change", this.onChange);
    this.resize = new ResizeObserver(() => this.invalidate());
    this.resize.observe(this.canvas);
    this.setView(this.view.start, this.view.end);
  }

  close() {
    this.resize.disconnect();
    this.footage.removeEventListener("change", this.onChange);
    cancelAnimationFrame(this.drawn);
  }

  legend() {
    this.legendSteps = [...this.footage.clockSteps.values()].some((steps) => steps.length > 0);
    const keys = [...EVENT_TYPES, ...(this.footage.staff ? ["bookmark", "locked"] : []),
      ...(this.legendSteps ? ["clock_step"] : [])];
    this.root.querySelector(".legend").replaceChildren(...keys.map((type) => {
      const item = document.createElement("span");
      item.className = `key ${type}`;
      item.textContent = t(type === "bookmark" ? "bookmarks" : type);
      return item;
    }));
  }

  setSelection(selection) {
    this.selection = selection;
    this.invalidate();
  }

  bind() {
    const { canvas } = this;
    canvas.addEventListener("pointerdown", (down) => this.pointerDown(down));
    canvas.addEventListener("pointermove", (move) => this.pointerMove(move));
    canvas.addEventListener("pointerup", (up) => this.pointerUp(up));
    canvas.addEventListener("pointercancel", (cancel) => this.pointerUp(cancel, false));
    canvas.addEventListener("pointerleave", () => { if (!this.drag) this.hideTip(); });
    canvas.addEventListener("wheel", (wheel) => {
      wheel.preventDefault();
      if (wheel.shiftKey || Math.abs(wheel.deltaX) > Math.abs(wheel.deltaY)) {
        this.pan((wheel.deltaX || wheel.deltaY) / canvas.clientWidth);
      } else {
        this.zoom(Math.exp(wheel.deltaY * 0.002), this.msAt(wheel.offsetX));
      }
    }, { passive: false });
    this.root.addEventListener("keydown", (key) => {
      const action = { "+": () => this.zoom(1 / KEY_ZOOM), "=": () => this.zoom(1 / KEY_ZOOM),
        "-": () => this.zoom(KEY_ZOOM), ArrowLeft: () => this.pan(-KEY_PAN), ArrowRight: () => this.pan(KEY_PAN),
      }[key.key];
      if (action) {
        key.preventDefault();
        action();
      }
    });
    this.root.querySelector(".zoom-in").addEventListener("click", () => this.zoom(1 / KEY_ZOOM));
    this.root.querySelector(".zoom-out").addEventListener("click", () => this.zoom(KEY_ZOOM));
  }

  // ------------------------------------------------------------------ the view

  setView(start, end) {
    const span = Math.min(MAX_SPAN_MS, Math.max(MIN_SPAN_MS, end - start));
    const middle = (start + end) / 2;
    this.view = { start: middle - span / 2, end: middle + span / 2 };
    this.root.dataset.viewStart = Math.round(this.view.start);
    this.root.dataset.viewEnd = Math.round(this.view.end);
    this.footage.ensure(this.view.start, this.view.end);
    this.invalidate();
  }

  // Zoom by `factor` (< 1: in) keeping `around` (default: the head, or the middle) where it is on the screen.
  zoom(factor, around = this.head >= this.view.start && this.head <= this.view.end ? this.head
    : (this.view.start + this.view.end) / 2) {
    const { start, end } = this.view;
    const span = Math.min(MAX_SPAN_MS, Math.max(MIN_SPAN_MS, (end - start) * factor));
    const share = (around - start) / (end - start);
    this.setView(around - share * span, around + (1 - share) * span);
  }

  pan(share) {
    const shift = (this.view.end - this.view.start) * share;
    this.setView(this.view.start + shift, this.view.end + shift);
  }

  setHead(ms) {
    const { start, end } = this.view;
    if (!this.drag && !this.pinch && (ms < start || ms > end)) {
      const span = end - start;
      const from = ms > end ? ms - FOLLOW_AT * span : ms - (1 - FOLLOW_AT) * span;
      this.setView(from, from + span);
    }
    const moved = Math.abs(this.xAt(ms) - this.xAt(this.head)) >= 0.5
      || Math.abs(this.xAt(Date.now()) - this.nowX) >= 1;
    this.head = ms;
    if (moved) this.invalidate();
  }

  xAt(ms) {
    return ((ms - this.view.start) / (this.view.end - this.view.start)) * this.canvas.clientWidth;
  }

  msAt(x) {
    return this.view.start + (x / this.canvas.clientWidth) * (this.view.end - this.view.start);
  }

  rowAt(y) {
    return Math.max(0, Math.min(this.cameras.length - 1, Math.floor(y / ROW_PX)));
  }

  // ------------------------------------------------------------------ pointers

  pointerDown(down) {
    this.canvas.setPointerCapture(down.pointerId);
    this.pointers.set(down.pointerId, down);
    if (this.pointers.size === 1) {
      this.drag = { x: down.offsetX, row: this.rowAt(down.offsetY), moved: false };
      this.preview = this.msAt(down.offsetX);
      this.showTip(this.drag.row, down.offsetX);
    } else if (this.pointers.size === 2) {
      this.drag = null;
      this.preview = null;
      this.hideTip();
      const [a, b] = [...this.pointers.values()];
      this.pinch = { distance: Math.abs(a.offsetX - b.offsetX) || 1, middle: this.msAt((a.offsetX + b.offsetX) / 2),
        view: { ...this.view } };
    }
  }

  pointerMove(move) {
    if (this.pointers.has(move.pointerId)) this.pointers.set(move.pointerId, move);
    if (this.pinch && this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()];
      const { distance, middle, view } = this.pinch;
      const span = (view.end - view.start) * (distance / (Math.abs(a.offsetX - b.offsetX) || 1));
      const share = ((a.offsetX + b.offsetX) / 2) / this.canvas.clientWidth;
      this.setView(middle - share * span, middle + (1 - share) * span);
    } else if (this.drag) {
      this.drag.moved ||= Math.abs(move.offsetX - this.drag.x) > DRAG_PX;
      this.preview = this.msAt(move.offsetX);
      this.showTip(this.drag.row, move.offsetX);
      this.invalidate();
    } else if (move.pointerType === "mouse") {
      this.showTip(this.rowAt(move.offsetY), move.offsetX);
    }
  }

  pointerUp(up, seek = true) {
    this.pointers.delete(up.pointerId);
    if (this.drag && seek) this.onSeek(this.msAt(up.offsetX));
    if (this.pointers.size === 0) this.pinch = null;
    this.drag = null;
    this.preview = null;
    if (up.pointerType !== "mouse") this.hideTip();
    this.invalidate();
  }

  // ------------------------------------------------------------------ what is under the pointer

  showTip(row, x) {
    const camera = this.cameras[row];
    const ms = this.msAt(x);
    const recorded = this.footage.recordedAt(camera.name, ms);
    const happened = this.footage.events.filter((event) => event.camera === camera.name
      && event.start_ms <= ms + this.msPerPx() * 3 && (event.end_ms ?? Date.now()) >= ms - this.msPerPx() * 3);
    const lines = [dateTime(ms), camera.title || camera.name];
    const reason = this.footage.gapAt(camera.name, ms);
    if (this.footage.unknown(camera.name)) lines.push(t("footage_unknown"));
    else if (!recorded) lines.push(reason ? t("not_recorded", { reason: t(reason) }) : t("no_footage"));
    const late = this.footage.lateBy(camera.name, ms);
    if (late > 0) lines.push(t("stamped_on_old_clock", { by: duration(late / 86400) }));
    lines.push(...happened.map((event) => `${t(event.type)} ${clock(event.start_ms)}`));
    const near = this.msPerPx() * NEAR_PX;
    lines.push(...this.footage.bookmarks.filter((mark) => mark.camera === camera.name && Math.abs(mark.at_ms - ms) <= near)
      .map((mark) => `★ ${clock(mark.at_ms)} ${mark.note}`));
    lines.push(...this.footage.locks.filter((lock) => lock.camera === camera.name && lock.start <= ms && ms < lock.end)
      .map((lock) => t("locked_by", { title: lock.title })));
    this.tip.querySelector(".tip-text").textContent = lines.join("\n");
    this.tip.hidden = false;
    this.tip.style.left = `${Math.max(0, Math.min(this.canvas.clientWidth - this.tip.offsetWidth, x - this.tip.offsetWidth / 2))}px`;
    this.thumbnail(recorded ? `/api/cameras/${encodeURIComponent(camera.name)}/thumbnail.jpg?at=${ms / 1000}` : "");
  }

  hideTip() {
    this.tip.hidden = true;
  }

  // One picture asked for at a time; the newest wish follows when it comes.
  thumbnail(url) {
    const image = this.tip.querySelector("img");
    this.wantedPicture = url;
    image.hidden = !url;
    if (!url || this.pictureBusy) return;
    this.pictureBusy = true;
    const loaded = () => {
      this.pictureBusy = false;
      if (this.wantedPicture !== url) this.thumbnail(this.wantedPicture);
    };
    image.addEventListener("load", loaded, { once: true });
    image.addEventListener("error", loaded, { once: true });
    image.src = url;
  }

  msPerPx() {
    return (this.view.end - this.view.start) / this.canvas.clientWidth;
  }

  // ------------------------------------------------------------------ drawing

  invalidate() {
    if (this.drawn) return;
    this.drawn = requestAnimationFrame(() => {
      this.drawn = 0;
      this.draw();
    });
  }

  draw() {
    const { canvas, cameras, footage } = this;
    const width = canvas.clientWidth;
    const height = cameras.length * ROW_PX + AXIS_PX;
    const scale = window.devicePixelRatio || 1;
    canvas.style.height = `${height}px`;
    if (canvas.width !== Math.round(width * scale) || canvas.height !== Math.round(height * scale)) {
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
    }
    const g = canvas.getContext("2d");
    g.setTransform(scale, 0, 0, scale, 0, 0);
    const style = getComputedStyle(this.root);
    const colour = (name) => style.getPropertyValue(`--${name}`).trim();
    g.fillStyle = colour("panel");
    g.fillRect(0, 0, width, height);
    const bar = (start, end, y, h) => {
      const x = this.xAt(start);
      g.fillRect(x, y, Math.max(this.xAt(end) - x, 1), h);
    };
    const eventColours = Object.fromEntries(EVENT_TYPES.map((type) => [type, colour(`event-${type}`)]));
    let ranges = 0;
    let locked = 0;
    let marks = 0;
    let stepped = 0; // cameras' clock steps drawn
    let hatched = 0; // stretches of footage hatched for them
    cameras.forEach((camera, row) => {
      const y = row * ROW_PX;
      g.fillStyle = colour("gap");
      for (const [start, end] of footage.gaps.get(camera.name) || []) bar(start, end, y + 2, ROW_PX - 4);
      g.fillStyle = colour("ok");
      for (const [start, end] of footage.ranges.get(camera.name) || []) {
        bar(start, end, y + 2, ROW_PX * (1 - EVENT_PART) - 2);
        ranges += 1;
      }
      const recorded = footage.ranges.get(camera.name) || [];
      for (const [since, before] of footage.clockSteps.get(camera.name) || []) {
        // over its footage only: the gaps within a step's span were stamped by no clock
        const pieces = recorded.filter(([start, end]) => start < before && end > since);
        for (const [start, end] of pieces) {
          this.hatch(g, Math.max(start, since), Math.min(end, before), y + 2, ROW_PX * (1 - EVENT_PART) - 2,
            colour("clock-step"));
        }
        stepped += pieces.length ? 1 : 0;
        hatched += pieces.length;
      }
      for (const event of footage.events) {
        if (event.camera !== camera.name) continue;
        g.fillStyle = eventColours[event.type] || colour("bad");
        bar(event.start_ms, event.end_ms ?? Date.now(), y + ROW_PX * (1 - EVENT_PART), ROW_PX * EVENT_PART - 2);
      }
      g.fillStyle = colour("locked");
      for (const lock of footage.locks) {
        if (lock.camera !== camera.name) continue;
        bar(lock.start, lock.end, y, LOCK_PX);
        locked += 1;
      }
      g.fillStyle = colour("bookmark");
      for (const mark of footage.bookmarks) {
        if (mark.camera !== camera.name) continue;
        const x = Math.round(this.xAt(mark.at_ms));
        g.fillRect(x - 1, y, 2, ROW_PX - 2);
        g.beginPath(); // a flag at its top
        g.moveTo(x + 1, y);
        g.lineTo(x + 7, y + 3);
        g.lineTo(x + 1, y + 6);
        g.fill();
        marks += 1;
      }
      if (cameras.length > 1) {
        g.fillStyle = colour("text");
        g.font = "11px system-ui, sans-serif";
        const label = camera.title || camera.name;
        g.fillText(footage.unknown(camera.name) ? `${label} (${t("not_loaded")})` : label, 4, y + 12);
      }
    });
    this.root.dataset.unknown = cameras.filter((camera) => footage.unknown(camera.name)).length;
    this.root.dataset.ranges = ranges;
    this.root.dataset.locked = locked;
    this.root.dataset.bookmarks = marks;
    this.root.dataset.clockSteps = stepped;
    this.root.dataset.hatched = hatched;
    this.drawSelection(g, height, colour);
    this.drawAxis(g, width, height - AXIS_PX, colour);
    const line = (ms, style, lineWidth) => {
      g.fillStyle = style;
      g.fillRect(Math.round(this.xAt(ms)) - lineWidth / 2, 0, lineWidth, height);
    };
    this.nowX = this.xAt(Date.now());
    line(Date.now(), colour("accent"), 1);
    if (this.preview !== null) line(this.preview, colour("muted"), 1);
    line(this.head, colour("text"), 2);
    this.root.setAttribute("aria-valuetext", dateTime(this.head));
  }

  // Diagonal lines over [start, end) of a row's band from `y`, `h` high.
  hatch(g, start, end, y, h, style) {
    const [from, to] = [Math.max(0, this.xAt(start)), Math.min(this.canvas.clientWidth, this.xAt(end))];
    if (to <= from) return;
    g.save();
    g.beginPath();
    g.rect(from, y, to - from, h);
    g.clip();
    g.strokeStyle = style;
    g.lineWidth = 2;
    g.beginPath();
    for (let x = from - (from % HATCH_PX) - h; x < to; x += HATCH_PX) {
      g.moveTo(x, y + h);
      g.lineTo(x + h, y);
    }
    g.stroke();
    g.restore();
  }

  drawSelection(g, height, colour) {
    const { start, end } = this.selection || {};
    if (start == null && end == null) return;
    g.fillStyle = colour("selection");
    if (start != null && end != null && end > start) {
      g.globalAlpha = 0.25;
      g.fillRect(this.xAt(start), 0, this.xAt(end) - this.xAt(start), height);
      g.globalAlpha = 1;
    }
    for (const ms of [start, end]) if (ms != null) g.fillRect(Math.round(this.xAt(ms)) - 1, 0, 2, height);
  }

  drawAxis(g, width, top, colour) {
    const { start, end } = this.view;
    const step = TICK_STEPS_MS.find((ms) => (ms / (end - start)) * width >= MIN_TICK_PX) || MAX_SPAN_MS;
    const origin = dayStart(start);
    g.fillStyle = colour("muted");
    g.font = "11px system-ui, sans-serif";
    g.textAlign = "center";
    for (let ms = origin + Math.ceil((start - origin) / step) * step; ms <= end; ms += step) {
      const x = Math.round(this.xAt(ms));
      g.fillRect(x, top, 1, 4);
      const text = ms === dayStart(ms) ? dateTime(ms).slice(0, 10) : clock(ms).slice(0, step < 6e4 ? 8 : 5);
      g.fillText(text, Math.max(20, Math.min(width - 20, x)), top + 15);
    }
    g.textAlign = "start";
  }
}
