// The one clock of a playback: every camera's picture follows it. Its position is a wall time (ms since
// 1970) that advances at `rate` (negative: backwards) while playing, and stands still while held (a camera
// is still loading the footage of that moment). While pictures play, `leader` (when set) may give the
// position instead: the time of the picture that is furthest behind, so the clock never runs ahead of one.
export class SharedClock {
  constructor(position) {
    this.rate = 1;
    this.playing = false;
    this.held = false;
    this.leader = () => null;
    this.anchorPosition = position;
    this.anchorWall = performance.now();
  }

  now() {
    if (!this.playing || this.held) return this.anchorPosition;
    const led = this.leader();
    if (led === null) return this.anchorPosition + (performance.now() - this.anchorWall) * this.rate;
    this.anchorPosition = led; // where the clock goes on from when nothing leads it any more
    this.anchorWall = performance.now();
    return led;
  }

  // Re-anchor at the current position, then change what moves it.
  change(update) {
    this.anchorPosition = this.now();
    this.anchorWall = performance.now();
    update();
  }

  seek(position) {
    this.change(() => { this.anchorPosition = position; });
  }

  play() {
    this.change(() => { this.playing = true; });
  }

  pause() {
    this.change(() => { this.playing = false; });
  }

  setRate(rate) {
    this.change(() => { this.rate = rate; });
  }

  hold(held) {
    if (held !== this.held) this.change(() => { this.held = held; });
  }
}
