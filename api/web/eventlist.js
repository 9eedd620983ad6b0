// Events as the screens list them (the grid's feed, the events page), where one leads when clicked (its
// footage, played from a little before it), and acknowledging one with a note.
import { api } from "./api.js";
import { applyTexts, t } from "./i18n.js";
import { dateTime, when } from "./timefmt.js";

export const PRE_ROLL_MS = 5000; // an event is played from this long before it

export function snapshotUrl(event) {
  return `/api/events/${event.id}/snapshot.jpg?v=${event.updated_ms || 0}`;
}

// What an event is called where it is added to a case: its type, where, when
export function eventLabel(event, where) {
  return `${t(event.type)}, ${where}, ${dateTime(event.start_ms)}`;
}

export function playbackHash(cameras, at, eventId = null) {
  const query = new URLSearchParams({ cameras: cameras.join(","), at: Math.round(at) });
  if (eventId !== null) query.set("event", eventId);
  return `#/playback?${query}`;
}

// What a list item shows of an event changes with this (its picture with `updated_ms`): an item of the same version
// needs no redraw, which would fetch its snapshot again.
export function eventVersion(event) {
  return `${event.updated_ms || 0}:${event.ack ? 1 : 0}`;
}

// A list item (new, or `item` redrawn): snapshot, camera, type, time, who acknowledged it; a click plays it.
export function eventItem(event, cameraName, item = document.createElement("li")) {
  item.dataset.event = event.id;
  item.dataset.camera = event.camera;
  item.dataset.version = eventVersion(event);
  item.classList.toggle("acked", Boolean(event.ack));
  const snapshot = event.has_snapshot ? `<img alt="" src="${snapshotUrl(event)}">` : "";
  item.innerHTML = `${snapshot}<div><strong></strong> <span class="what"></span><br><time></time> <span class="ack-mark"></span></div>`;
  item.querySelector("strong").textContent = cameraName;
  item.querySelector(".what").textContent = t(event.type);
  item.querySelector("time").textContent = when(event.start_ms);
  item.querySelector(".ack-mark").textContent = event.ack ? `✓ ${event.ack.by}` : "";
  item.onclick = () => { location.hash = playbackHash([event.camera], event.start_ms - PRE_ROLL_MS, event.id); };
  return item;
}

// Who acknowledged the event, or (for operators and administrators) a form to acknowledge it with a note.
export function showAck(box, event, me, onDone = () => {}) {
  if (event.ack) {
    const done = document.createElement("p");
    done.className = "ack-done";
    const who = t("acked_by", { by: event.ack.by, at: when(event.ack.at_ms) });
    done.textContent = event.ack.note ? `${who}: ${event.ack.note}` : who;
    box.replaceChildren(done);
    return;
  }
  if (me.role === "viewer") {
    box.replaceChildren();
    return;
  }
  const form = document.getElementById("ack-template").content.firstElementChild.cloneNode(true);
  applyTexts(form);
  form.addEventListener("click", (click) => click.stopPropagation()); // inside a list item that plays on click
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    try {
      const updated = await api(`/api/events/${event.id}/ack`, {
        method: "POST", body: JSON.stringify({ note: form.elements.note.value }),
      });
      showAck(box, updated, me, onDone);
      onDone(updated);
    } catch (failure) {
      form.querySelector(".error").textContent = `${t("ack_failed")}: ${failure.message}`;
    }
  });
  box.replaceChildren(form);
}
