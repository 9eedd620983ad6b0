// The station screen's alert sound: two short tones made by the browser (no sound file to serve), unless
// muted (remembered on this device).
const KEY = "nvr-muted";
const TONES = [[0, 880], [0.25, 660]]; // [seconds from now, hertz]
const TONE_SECONDS = 0.2;
let context = null;

export function isMuted() {
  return localStorage.getItem(KEY) === "1";
}

export function setMuted(muted) {
  localStorage.setItem(KEY, muted ? "1" : "0");
}

export function alarm() {
  if (isMuted()) return;
  context ??= new AudioContext();
  context.resume().catch(() => {}); // a page not touched yet may not sound; the next alert will
  const now = context.currentTime;
  for (const [offset, hertz] of TONES) {
    const tone = context.createOscillator();
    const volume = context.createGain();
    tone.frequency.value = hertz;
    volume.gain.setValueAtTime(0.25, now + offset);
    volume.gain.exponentialRampToValueAtTime(0.001, now + offset + TONE_SECONDS);
    tone.connect(volume).connect(context.destination);
    tone.start(now + offset);
    tone.stop(now + offset + TONE_SECONDS);
  }
}
