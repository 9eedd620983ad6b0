// A live picture over WebRTC: the browser offers to receive video (and sound, when asked), the station
// answers with the camera's own H.264 (or its H.265 encoded again, which the tile says) and its sound
// (G.711 as it is, AAC as Opus). aiortc does not trickle ICE, so the offer goes out once gathering is
// complete.
import { t } from "./i18n.js";

function gatheringComplete(peer) {
  if (peer.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (peer.iceGatheringState === "complete") {
        peer.removeEventListener("icegatheringstatechange", check);
        resolve();
      }
    };
    peer.addEventListener("icegatheringstatechange", check);
    setTimeout(resolve, 2000); // loopback and LAN gather in milliseconds; never wait forever
  });
}

export async function playLive(video, camera, quality, audio = false) {
  const peer = new RTCPeerConnection();
  peer.addTransceiver("video", { direction: "recvonly" });
  if (audio) peer.addTransceiver("audio", { direction: "recvonly" });
  const tracks = [];
  peer.addEventListener("track", (event) => {
    tracks.push(event.track); // picture and sound come as tracks of separate streams: one element plays both
    video.srcObject = new MediaStream(tracks);
  });
  await peer.setLocalDescription(await peer.createOffer());
  await gatheringComplete(peer);
  const response = await fetch(`/api/cameras/${encodeURIComponent(camera)}/live`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    credentials: "same-origin",
    body: JSON.stringify({ sdp: peer.localDescription.sdp, type: "offer", quality, audio }),
  });
  if (!response.ok) {
    peer.close();
    throw new Error(`live ${camera}: ${response.status}`);
  }
  const answer = await response.json();
  await peer.setRemoteDescription({ sdp: answer.sdp, type: answer.type });
  const holder = video.parentElement;
  holder.classList.toggle("transcoded", answer.transcoded);
  holder.dataset.transcodedLabel = t("transcoded");
  return peer;
}

// Keeps a tile's live picture up: reconnects when the connection drops (camera or network back). Stopped while
// a connection is being made, that connection is closed as it arrives (an audit: a page left before its tiles
// connected kept their views open, until the account's limit left every tile black).
export function keepLive(video, camera, quality, audio = false) {
  let peer = null;
  let stopped = false;
  const connect = async () => {
    if (stopped) return;
    try {
      const made = await playLive(video, camera, quality, audio);
      if (stopped) {
        made.close();
        return;
      }
      peer = made;
      peer.addEventListener("connectionstatechange", () => {
        if (["failed", "disconnected", "closed"].includes(made.connectionState) && !stopped) {
          made.close();
          setTimeout(connect, 3000);
        }
      });
    } catch {
      if (!stopped) setTimeout(connect, 5000);
    }
  };
  connect();
  return () => {
    stopped = true;
    peer?.close();
  };
}
