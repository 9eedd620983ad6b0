// Playback (#/playback?cameras=a,b&at=MS&event=ID): up to nine cameras on one clock with one timeline; the
// cameras are chosen one by one or an area at a time. Opened from an event, the event is shown (and can be
// acknowledged) and the other cameras of its area join on demand. Duty officers add what they see to a case.
import { addToCase } from "./addtocase.js";
import { api, isStaff } from "./api.js";
import { setUpCaseActions } from "./caseactions.js";
import { eventLabel, playbackHash, showAck, snapshotUrl } from "./eventlist.js";
import { Footage } from "./footage.js";
import { cameraCheckbox, displayName } from "./grid.js";
import { applyTexts, t } from "./i18n.js";
import { Player } from "./player.js";
import { Timeline } from "./timeline.js";
import { dateTime, parseTyped } from "./timefmt.js";

const MAX_CAMERAS = 9;
const DEFAULT_CAMERAS = 4;
const DEFAULT_BACK_MS = 60000; // opened without a time: a minute ago

// The player (its template cloned into `slot`) with its timeline, for the user `me`; returns what closes them.
export function mountPlayer(slot, cameras, at, me) {
  slot.replaceChildren(document.getElementById("player-template").content.cloneNode(true));
  applyTexts(slot);
  const root = slot.querySelector(".player");
  const footage = new Footage(cameras.map((camera) => camera.name), isStaff(me));
  const player = new Player(root, footage, cameras, at);
  const timeline = new Timeline(root.querySelector(".timeline"), footage, cameras, at, (ms) => {
    player.seek(ms); // a moment chosen on the timeline plays
    player.clock.play();
  });
  player.addEventListener("tick", (tick) => timeline.setHead(tick.detail));
  for (const tile of player.tiles) { // a search for motion on this camera's picture as it is at the head
    const link = tile.element.querySelector(".motion-link");
    const aim = () => { link.href = `#/motion?${new URLSearchParams({ camera: tile.camera, at: Math.round(player.clock.now()) })}`; };
    aim();
    link.addEventListener("pointerdown", aim);
    link.addEventListener("focus", aim);
  }
  if (footage.staff) setUpCaseActions(root, player, timeline, footage, cameras);
  const jump = root.querySelector(".jump");
  const typed = jump.elements.at;
  typed.addEventListener("input", () => typed.setCustomValidity(""));
  jump.addEventListener("submit", (submit) => {
    submit.preventDefault();
    const ms = parseTyped(typed.value, player.clock.now());
    if (ms === null) {
      typed.setCustomValidity(t("bad_time"));
      typed.reportValidity();
      return;
    }
    player.seek(ms);
    typed.value = "";
  });
  root.player = player; // for whoever inspects the page (the tests read its clock)
  return { player, footage, close: () => { player.close(); timeline.close(); } };
}

function areaOf(camera) {
  return camera.area || t("no_area");
}

// The cameras by area, as check boxes; at most MAX_CAMERAS checked; "show" reopens the playback with them.
function showPicker(form, cameras, chosen, open) {
  const areas = Map.groupBy(cameras, areaOf);
  const boxes = [];
  form.querySelector(".areas").replaceChildren(...[...areas].map(([area, members]) => {
    const group = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = area;
    const whole = document.createElement("button");
    whole.type = "button";
    whole.className = "ghost whole";
    whole.textContent = t("whole_area");
    legend.append(" ", whole);
    group.append(legend);
    const mine = members.map((camera) => {
      const label = cameraCheckbox(camera, chosen.includes(camera.name));
      group.append(label);
      const box = label.querySelector("input");
      boxes.push(box);
      return box;
    });
    whole.addEventListener("click", () => {
      for (const box of mine) box.checked = true;
      limit();
    });
    return group;
  }));
  const limit = () => {
    const checked = boxes.filter((box) => box.checked);
    for (const box of checked.slice(MAX_CAMERAS)) box.checked = false;
    const full = checked.length >= MAX_CAMERAS;
    for (const box of boxes) box.disabled = full && !box.checked;
  };
  form.addEventListener("change", limit);
  form.querySelector(".at-most").textContent = t("at_most", { n: MAX_CAMERAS });
  form.addEventListener("submit", (submit) => {
    submit.preventDefault();
    const names = boxes.filter((box) => box.checked).map((box) => box.value);
    if (names.length) open(names);
  });
  limit();
}

async function showEvent(panel, id, me, cameras, chosen, open, onAdded) {
  const event = await api(`/api/events/${encodeURIComponent(id)}`);
  const camera = cameras.find((candidate) => candidate.name === event.camera);
  panel.hidden = false;
  panel.dataset.event = event.id;
  const snapshot = panel.querySelector(".snapshot");
  snapshot.hidden = !event.has_snapshot;
  if (event.has_snapshot) snapshot.src = snapshotUrl(event);
  panel.querySelector(".what").textContent = t(event.type);
  panel.querySelector(".where").textContent = camera ? displayName(camera) : event.camera;
  panel.querySelector("time").textContent = dateTime(event.start_ms);
  showAck(panel.querySelector(".ack-box"), event, me);
  // its area's other cameras; a camera in no area is near every camera
  const near = cameras.filter((other) => !chosen.includes(other.name)
    && (!camera?.area || other.area === camera.area));
  const nearby = panel.querySelector(".nearby");
  nearby.hidden = near.length === 0;
  nearby.addEventListener("click", () => open([...chosen, ...near.map((other) => other.name)].slice(0, MAX_CAMERAS)));
  const toCase = panel.querySelector(".add-to-case");
  toCase.hidden = !isStaff(me);
  toCase.addEventListener("click", () => addToCase({ event: event.id,
    label: eventLabel(event, panel.querySelector(".where").textContent) }, onAdded));
}

export async function showPlayback(view, me, query) {
  view.replaceChildren(document.getElementById("playback-template").content.cloneNode(true));
  applyTexts(view);
  const cameras = await api("/api/cameras");
  const known = new Map(cameras.map((camera) => [camera.name, camera]));
  const asked = (query.get("cameras") || "").split(",").filter((name) => known.has(name));
  const chosen = (asked.length ? asked : cameras.slice(0, DEFAULT_CAMERAS).map((camera) => camera.name))
    .slice(0, MAX_CAMERAS);
  if (!chosen.length) {
    view.querySelector(".player-slot").textContent = t("no_cameras");
    return () => {};
  }
  const eventId = query.get("event");
  const mounted = mountPlayer(view.querySelector(".player-slot"), chosen.map((name) => known.get(name)),
    Number(query.get("at")) || Date.now() - DEFAULT_BACK_MS, me);
  if (eventId || query.get("play")) mounted.player.clock.play(); // an event (or a motion found) opens playing
  const open = (names) => {
    location.hash = playbackHash(names, mounted.player.clock.now(), eventId);
  };
  showPicker(view.querySelector(".picker-form"), cameras, chosen, open);
  if (eventId) {
    await showEvent(view.querySelector(".event-panel"), eventId, me, cameras, chosen, open,
      () => mounted.footage.reload()).catch(() => {});
  }
  return mounted.close;
}
