// Recorded footage of 1-9 cameras played together on one clock. Every animation frame each video is held
// to the clock: forward up to 4x the videos play, and a video that drifts is pulled back by its own speed
// (a little faster or slower) or, beyond half a second, by seeking; faster and backwards every video shows
// the keyframe at or before the clock, all of them moved together once the last one has shown its picture.
// A camera still loading the moment holds the clock; one with no footage then shows why and holds nothing.
import { SharedClock } from "./clock.js";
import { displayName, toggleFullscreen } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { RecordedVideo } from "./stream.js";
import { dateTime } from "./timefmt.js";

export const SPEEDS = [-16, -8, -4, -2, -1, 1, 2, 4, 8, 16];
const SMOOTH_MAX_RATE = 4; // up to this speed forward the videos play; faster, and backwards, they show keyframes
const SEEK_DRIFT_MS = 500; // a video further than this from the clock is put back by seeking; nearer, by its speed
const NUDGE_MS = 1000; // a drift of this much would change a video's speed by 100 % (at most 25 %)
const RATE_STEP = 0.01; // speed changes smaller than this (relative) are not worth telling the video
const LIVE_DELAY_MS = 3000; // the clock stops this long before now: the newest second is still being written
const WINDOW_MS = 60000; // footage asked for at once at 1x ...
const AHEAD_MS = 20000; // ... and kept ready ahead of the head at 1x (both grow with the speed)
const HAVE_FUTURE_DATA = 3;
const HAVE_CURRENT_DATA = 2;

export class Player extends EventTarget {
  // `root` holds the player's template; `cameras`: the cameras' API objects; `position`: ms since 1970.
  constructor(root, footage, cameras, position) {
    super();
    this.root = root;
    this.footage = footage;
    this.clock = new SharedClock(position);
    this.frameMs = 1000 / Math.max(...cameras.map((camera) => camera.fps || 15));
    const grid = root.querySelector(".ptiles");
    const columns = Math.ceil(Math.sqrt(cameras.length));
    grid.style.setProperty("--columns", columns);
    grid.style.setProperty("--rows", Math.ceil(cameras.length / columns));
    this.tiles = cameras.map((camera) => {
      const element = document.getElementById("ptile-template").content.firstElementChild.cloneNode(true);
      element.dataset.camera = camera.name;
      element.querySelector(".name").textContent = displayName(camera);
      const video = element.querySelector("video");
      element.querySelector(".full").addEventListener("click", () => toggleFullscreen(element));
      video.addEventListener("dblclick", () => toggleFullscreen(element));
      grid.append(element);
      applyTexts(element);
      return { camera: camera.name, element, video, stream: new RecordedVideo(video, camera.name), note: "" };
    });
    this.bindControls();
    this.frame = requestAnimationFrame(() => this.tick());
  }

  close() {
    cancelAnimationFrame(this.frame);
    document.removeEventListener("keydown", this.keys);
    for (const tile of this.tiles) tile.stream.close();
  }

  bindControls() {
    const controls = this.root.querySelector(".controls");
    const speed = controls.querySelector(".speed");
    speed.replaceChildren(...SPEEDS.map((rate) => new Option(rate < 0 ? `◀ ${-rate}x` : `${rate}x`, rate)));
    speed.value = "1";
    speed.addEventListener("change", () => this.clock.setRate(Number(speed.value)));
    controls.querySelector(".play").addEventListener("click", () => this.toggle());
    controls.querySelector(".step-back").addEventListener("click", () => this.step(-1));
    controls.querySelector(".step-forward").addEventListener("click", () => this.step(1));
    this.keys = (key) => {
      if (key.target.closest("input, select, textarea, .timeline")) return;
      const action = { " ": () => this.toggle(), ",": () => this.step(-1), ".": () => this.step(1) }[key.key];
      if (action) {
        key.preventDefault();
        action();
      }
    };
    document.addEventListener("keydown", this.keys);
  }

  toggle() {
    if (this.clock.playing) this.clock.pause();
    else this.clock.play();
  }

  step(frames) {
    this.clock.pause();
    this.seek(this.clock.now() + frames * this.frameMs);
  }

  seek(ms) {
    this.clock.seek(Math.min(ms, Date.now() - LIVE_DELAY_MS));
  }

  tick() {
    this.frame = requestAnimationFrame(() => this.tick());
    const { clock } = this;
    if (clock.now() > Date.now() - LIVE_DELAY_MS) {
      clock.seek(Date.now() - LIVE_DELAY_MS);
      if (clock.rate > 0) clock.pause();
    }
    const position = clock.now();
    const speed = Math.abs(clock.rate);
    const mode = {
      smooth: clock.playing && clock.rate > 0 && clock.rate <= SMOOTH_MAX_RATE,
      direction: clock.playing && clock.rate < 0 ? -1 : 1,
      windowMs: WINDOW_MS * Math.max(1, speed / 2),
      aheadMs: AHEAD_MS * Math.max(1, speed),
      idle: this.tiles.every((tile) => !tile.video.seeking), // stepping moves every video together
    };
    this.footage.ensure(position - mode.aheadMs, position + mode.aheadMs);
    const states = this.tiles.map((tile) => this.sync(tile, position, mode));
    clock.hold(states.includes("loading"));
    if (clock.playing && states.every((state) => state === "gap")) this.skipGap(position, mode.direction);
    this.showState(position);
  }

  // Bring one camera's picture to the clock; its state: "gap" (nothing recorded then), "loading" or "ready".
  sync(tile, position, mode) {
    const { video, stream } = tile;
    stream.fill(position, mode.direction, mode.windowMs, mode.aheadMs, this.footage);
    const known = this.footage.covers(position);
    let state = "loading"; // nothing known of the moment yet, or its footage not here yet
    if (known && (!this.footage.recordedAt(tile.camera, position) || stream.isMissing(position))) state = "gap";
    else if (known && stream.spanAt(position)) state = this.follow(tile, position, mode);
    if ((state === "gap" || !stream.spanAt(position)) && !video.paused) video.pause();
    const reason = state === "gap" && this.footage.gapAt(tile.camera, position);
    const note = state === "gap" ? (reason ? t("not_recorded", { reason: t(reason) }) : t("no_footage"))
      : state === "loading" ? t("loading") : "";
    if (note !== tile.note || tile.element.dataset.state !== state) {
      tile.note = note;
      tile.element.dataset.state = state;
      tile.element.querySelector(".tile-note").textContent = note;
    }
    return state;
  }

  follow(tile, position, mode) {
    const { video, stream } = tile;
    if (mode.smooth) {
      const drift = video.currentTime * 1000 - position;
      if (Math.abs(drift) > SEEK_DRIFT_MS) video.currentTime = position / 1000;
      const rate = this.clock.rate * (1 + Math.max(-0.25, Math.min(0.25, -drift / NUDGE_MS)));
      if (Math.abs(rate - video.playbackRate) > RATE_STEP * this.clock.rate) video.playbackRate = rate;
      if (this.clock.held) video.pause();
      else if (video.paused) video.play().catch(() => {});
      return video.seeking || video.readyState < HAVE_FUTURE_DATA ? "loading" : "ready";
    }
    if (!video.paused) video.pause();
    const target = mode.direction < 0 ? stream.keyframeAtOrBefore(position) : position;
    if (mode.idle && Math.abs(video.currentTime * 1000 - target) > 1) video.currentTime = target / 1000;
    // stepping, a video finding its next keyframe holds nothing (the next step waits for it); standing, it is
    // ready once its picture is there
    return this.clock.playing || video.readyState >= HAVE_CURRENT_DATA ? "ready" : "loading";
  }

  // Every camera is in a gap: on to the nearest footage of any of them, or stop.
  skipGap(position, direction) {
    const next = this.tiles.map((tile) => this.footage.footageFrom(tile.camera, position, direction))
      .filter((ms) => ms !== null);
    if (next.length) this.seek(direction > 0 ? Math.min(...next) : Math.max(...next));
    else this.clock.pause();
  }

  showState(position) {
    const controls = this.root.querySelector(".controls");
    const text = dateTime(position);
    const output = controls.querySelector(".position");
    if (output.textContent !== text) output.textContent = text;
    const play = controls.querySelector(".play");
    const label = t(this.clock.playing ? "pause" : "play");
    if (play.title !== label) {
      play.setAttribute("aria-label", label);
      play.setAttribute("aria-pressed", String(this.clock.playing));
      play.title = label;
    }
    this.dispatchEvent(new CustomEvent("tick", { detail: position }));
  }
}
