// The one clock of a playback: every camera's picture follows it. Its position is a wall time (ms since
// 1970) that advances at `rate` (negative: backwards) while playing, and stands still while held (a camera
// is still loading the footage of that moment).
export class SharedClock {
  constructor(position) {
    this.rate = 1;
    this.playing = false;
    this.held = false;
    this.anchorPosition = position;
    this.anchorWall = performance.now();
  }

  now() {
    if (!this.playing || this.held) return this.anchorPosition;
    return this.anchorPosition + (performance.now() - this.anchorWall) * this.rate;
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
