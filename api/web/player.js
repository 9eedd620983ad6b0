// Recorded footage of 1-9 cameras played together on one clock (design/playback.md). Every animation frame
// each video is brought to the clock. Forward up to 4x the videos play and the clock follows the slowest
// picture: one ahead waits for it (crawls), one a little off is nudged by its speed, one far off seeks.
// Faster, every video is moved to the clock's moment together once all have shown the last one; backwards
// the same, to the keyframe at or before the clock. A camera still loading the moment, or starting to play
// it, holds the clock (the others crawl meanwhile); one with no footage then shows why and holds nothing.
import { SharedClock } from "./clock.js";
import { displayName, toggleFullscreen } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { RecordedVideo } from "./stream.js";
import { dateTime, duration } from "./timefmt.js";

const SPEEDS = [-16, -8, -4, -2, -1, 1, 2, 4, 8, 16];
const SMOOTH_MAX_RATE = 4; // up to this speed forward the videos play; faster, and backwards, they show keyframes
const SEEK_BEHIND_MS = 500; // a video further behind the clock than this is brought to it by seeking ...
const SEEK_AHEAD_WALL_MS = 1000; // ... and one ahead of it by more than this much of waiting at the speed played
const WAIT_AHEAD_MS = 100; // a video further ahead than this crawls until the others reach it
const NUDGE_MS = 1000; // nearer, a drift of this much would change a video's speed by 100 % (at most 25 %)
const RATE_STEP = 0.01; // speed changes smaller than this (relative) are not worth telling the video
const CRAWL_RATE = 0.0625; // while the clock waits for one video the others crawl (the slowest a video plays):
// pausing and restarting them would make them wait in turn
const LIVE_DELAY_MS = 3000; // the clock stops this long before now: the newest second is still being written
const WINDOW_MS = 60000; // footage asked for at once at 1x ...
const AHEAD_MS = 20000; // ... and kept ready ahead of the head at 1x (both grow with the speed)
const HAVE_FUTURE_DATA = 3;
const HAVE_CURRENT_DATA = 2;

// A recorded camera's sound starts muted (many tiles play at once); its button turns it on for that tile.
function showSoundButton(button, video) {
  button.hidden = false;
  button.addEventListener("click", () => {
    video.muted = !video.muted;
    button.dataset.i18n = video.muted ? "sound_on" : "sound_off";
    button.textContent = t(button.dataset.i18n);
  });
}

export class Player extends EventTarget {
  // `root` holds the player's template; `cameras`: the cameras' API objects; `position`: ms since 1970.
  constructor(root, footage, cameras, position) {
    super();
    this.root = root;
    this.footage = footage;
    this.clock = new SharedClock(position);
    this.clock.leader = () => this.slowestPicture();
    this.frameMs = 1000 / Math.max(...cameras.map((camera) => camera.fps || 15));
    this.smooth = false; // the videos are playing (the clock follows them)
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
      if (camera.audio_codec) showSoundButton(element.querySelector(".sound"), video);
      grid.append(element);
      applyTexts(element);
      return { camera: camera.name, element, video, stream: new RecordedVideo(video, camera.name, Boolean(camera.audio_codec)), note: "",
        lastTime: 0 };
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
    speed.addEventListener("change", () => this.setRate(Number(speed.value)));
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

  // The videos playing take the new speed at once, not at the next frame: a busy browser's frames come late.
  setRate(rate) {
    this.clock.setRate(rate);
    if (rate <= 0 || rate > SMOOTH_MAX_RATE) return;
    for (const { video } of this.tiles) if (!video.paused) video.playbackRate = rate;
  }

  step(frames) {
    this.clock.pause();
    this.seek(this.clock.now() + frames * this.frameMs);
  }

  seek(ms) {
    this.smooth = false; // the pictures lead the clock again once they show the new moment
    this.clock.seek(Math.min(ms, Date.now() - LIVE_DELAY_MS));
  }

  tick() {
    this.frame = requestAnimationFrame(() => this.tick());
    const { clock } = this;
    if (clock.now() > Date.now() - LIVE_DELAY_MS) {
      this.seek(Date.now());
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
    this.smooth = mode.smooth;
    if (mode.smooth) {
      this.tiles.filter((_, index) => ["ready", "loading"].includes(states[index]))
        .forEach((tile) => this.pace(tile.video, position));
    }
    if (clock.playing && states.every((state) => state === "gap")) this.skipGap(position, mode.direction);
    this.showState(position);
  }

  // Bring one camera's picture to the clock; its state: "gap" (nothing recorded then), "loading", "ready" or
  // "failed" (the browser cannot play its footage: it holds nothing).
  sync(tile, position, mode) {
    const { video, stream } = tile;
    stream.fill(position, mode.direction, mode.windowMs, mode.aheadMs, this.footage);
    const known = this.footage.covers(position);
    let state = "loading"; // nothing known of the moment yet, or its footage not here yet
    if (video.error) state = "failed";
    else if (known && (!this.footage.recordedAt(tile.camera, position) || stream.isMissing(position))) state = "gap";
    else if (known && stream.spanAt(position)) state = this.follow(tile, position, mode);
    if ((state === "gap" || !stream.spanAt(position)) && !video.paused) video.pause();
    const reason = state === "gap" && this.footage.gapAt(tile.camera, position);
    const late = state === "ready" ? this.footage.lateBy(tile.camera, position) : 0;
    const note = { gap: reason ? t("not_recorded", { reason: t(reason) }) : t("no_footage"), loading: t("loading"),
      failed: t("cannot_play") }[state] || (late > 0 ? t("stamped_on_old_clock", { by: duration(late / 86400) }) : "");
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
      const time = video.currentTime * 1000;
      const drift = time - position;
      if (drift < -SEEK_BEHIND_MS || drift > SEEK_AHEAD_WALL_MS * this.clock.rate) video.currentTime = position / 1000;
      if (video.paused) video.play().catch(() => {});
      // ready once its picture moves: a video starting (or restarting after a seek) takes a moment, which
      // the clock waits for instead of running ahead of it
      const moving = time !== tile.lastTime;
      tile.lastTime = time;
      return moving && !video.seeking && video.readyState >= HAVE_FUTURE_DATA ? "ready" : "loading";
    }
    if (!video.paused) video.pause();
    const target = mode.direction < 0 ? stream.keyframeAtOrBefore(position) : position;
    if (mode.idle && Math.abs(video.currentTime * 1000 - target) > 1) video.currentTime = target / 1000;
    // stepping, a video finding its next keyframe holds nothing (the next step waits for it); standing, it is
    // ready once its picture is there
    return this.clock.playing || video.readyState >= HAVE_CURRENT_DATA ? "ready" : "loading";
  }

  // While the videos play (1x to 4x forward), the time of the one furthest behind among those ready: the
  // clock follows it between two frames of the page, so a video stalling then cannot be left behind.
  slowestPicture() {
    if (!this.smooth) return null;
    const times = this.tiles.filter((tile) => tile.element.dataset.state === "ready")
      .map((tile) => tile.video.currentTime * 1000);
    return times.length ? Math.min(...times) : null;
  }

  // A playing video's speed: the clock's, nudged towards the clock; a crawl while the clock waits for another
  // video, or while this one is ahead (the clock follows the slowest picture: the others wait for it).
  pace(video, position) {
    const drift = video.currentTime * 1000 - position;
    const nudge = Math.max(-0.25, Math.min(0.25, -drift / NUDGE_MS));
    const rate = this.clock.held || drift > WAIT_AHEAD_MS ? CRAWL_RATE : this.clock.rate * (1 + nudge);
    if (Math.abs(rate - video.playbackRate) > RATE_STEP * rate) video.playbackRate = rate;
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
