"""Live H.264 RTSP test camera server (run with Debian's /usr/bin/python3, which has gi).

Usage: rtsp_server_main.py --port 8554 --mount cam0 --mount cam1 [--file street=/path/street.mp4]
       [--width 320 --height 240 --fps 15 --gop 15] [--user U --password P] [--clock-offset S] [--udp-only]
       [--codec h264|h265] [--audio cam0=aac|pcma|pcmu]

`--mount` encodes a test pattern live; `--file` serves a pre-encoded H.264 MP4 at its own pace, from
its start, ending when the file does. Every client gets a pipeline of its own: gst-rtsp-server's shared
media abort (`gst_rtsp_media_get_rates: assertion failed`) when clients come and go at the same moment.

`--clock-offset` makes the cameras' RTCP sender reports give an NTP time S seconds ahead of the
system clock (negative: behind), like a camera whose clock is wrong. `--udp-only` refuses RTP over the
RTSP connection (TCP), like cameras that only send RTP over UDP. `--audio NAME=CODEC` gives a live mount a
microphone: a sine tone as AAC (16 kHz mono, MPEG4-GENERIC as Hikvision and Dahua send it) or G.711
A-law / mu-law (8 kHz mono, 40 ms a packet), as a second track.

Prints READY on stdout once listening on 127.0.0.1; exits cleanly on SIGTERM/SIGINT.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, GObject, Gst, GstRtsp, GstRtspServer  # noqa: E402

PATTERNS = ("ball", "smpte", "snow", "pinwheel", "spokes", "circular")
ROLE = "viewer"
NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900 (NTP) to 1970 (Unix)
AUDIO = {  # what a camera's microphone track is encoded and payloaded with
    "aac": "audio/x-raw,rate=16000,channels=1 ! avenc_aac ! rtpmp4gpay pt=97",
    "pcma": "audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay min-ptime=40000000 max-ptime=40000000",
    "pcmu": "audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay min-ptime=40000000 max-ptime=40000000",
}


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mount", action="append", default=[], help="mount name, e.g. cam0 (repeatable)")
    p.add_argument("--file", action="append", default=[], help="NAME=PATH of an H.264 MP4 to serve (repeatable)")
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--fps", type=int, default=15)
    p.add_argument("--gop", type=int, default=15, help="frames between keyframes")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--clock-offset", type=float, default=None, help="seconds the RTCP NTP time is off")
    p.add_argument("--udp-only", action="store_true", help="offer RTP over UDP only, not interleaved over TCP")
    p.add_argument("--codec", choices=("h264", "h265"), default="h264", help="what the live mounts encode")
    p.add_argument("--audio", action="append", default=[], help=f"NAME=CODEC: an audio track on a live mount, "
                   f"CODEC one of {', '.join(AUDIO)} (repeatable)")
    args = p.parse_args()
    if (args.user is None) != (args.password is None):
        p.error("--user and --password go together")
    args.audio = dict(item.split("=", 1) for item in args.audio)
    if unknown := set(args.audio.values()) - set(AUDIO):
        p.error(f"unknown audio codec {sorted(unknown)}")
    return args


def launch_line(args: argparse.Namespace, pattern: str, audio: str | None) -> str:
    """GStreamer launch line for one live-encoded mount, with a tone as its audio track when asked."""
    microphone = (f" audiotestsrc is-live=true wave=sine freq=440 volume=0.3 samplesperbuffer=320"
                  " ! audioconvert ! audioresample"
                  f" ! {AUDIO[audio]} name=pay1") if audio else ""
    encode = (f" ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={args.gop} bframes=0"
              " option-string=scenecut=0 ! video/x-h264,profile=constrained-baseline"
              " ! rtph264pay name=pay0 pt=96 config-interval=1" if args.codec == "h264" else
              f" ! x265enc tune=zerolatency speed-preset=ultrafast key-int-max={args.gop}"
              ' option-string="bframes=0:scenecut=0" ! video/x-h265'
              " ! rtph265pay name=pay0 pt=96 config-interval=1")
    return (
        f"( videotestsrc is-live=true pattern={pattern}"
        f" ! video/x-raw,format=I420,width={args.width},height={args.height},framerate={args.fps}/1"
        f"{encode}{microphone} )"
    )


def file_launch_line(path: str) -> str:
    """GStreamer launch line for a mount replaying an MP4's H.264 without re-encoding."""
    return (f'( filesrc location="{path}" ! qtdemux ! h264parse'
            " ! rtph264pay name=pay0 pt=96 config-interval=1 )")


def make_auth(user: str, password: str) -> GstRtspServer.RTSPAuth:
    """Basic auth granting ROLE to the single user; everyone else gets 401."""
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
    auth = GstRtspServer.RTSPAuth()
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    return auth


def skew_clock(factory: GstRtspServer.RTSPMediaFactory, offset: float) -> None:
    """RTCP NTP time = the media pipeline's clock (rtpbin ntp-time-source=clock-time, which takes the clock
    time as NTP time as it is), here the system's real-time clock moved to the NTP epoch plus `offset`."""
    clock = GObject.new(Gst.SystemClock, clock_type=Gst.ClockType.REALTIME)
    clock.set_calibration(0, round((NTP_EPOCH_OFFSET + offset) * Gst.SECOND), 1, 1)
    factory.set_clock(clock)

    def on_element(_pipeline: Gst.Bin, element: Gst.Element) -> None:
        made_by = element.get_factory()
        if made_by is not None and made_by.get_name() == "rtpbin":  # added when the media is prepared
            Gst.util_set_object_arg(element, "ntp-time-source", "clock-time")

    factory.connect("media-configure", lambda _f, media: media.get_element().get_parent().connect(
        "element-added", on_element))


def main() -> int:
    """Build the server, serve until signalled."""
    args = parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    if args.user is not None:
        server.set_auth(make_auth(args.user, args.password))
    mounts = server.get_mount_points()
    served = [(name, launch_line(args, PATTERNS[i % len(PATTERNS)], args.audio.get(name)))
              for i, name in enumerate(args.mount)]
    served += [(name, file_launch_line(path)) for name, path in (f.split("=", 1) for f in args.file)]
    for name, launch in served:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        if args.udp_only:
            factory.set_protocols(GstRtsp.RTSPLowerTrans.UDP | GstRtsp.RTSPLowerTrans.UDP_MCAST)
        if args.clock_offset is not None:
            skew_clock(factory, args.clock_offset)
        if args.user is not None:
            perms = GstRtspServer.RTSPPermissions()
            perms.add_permission_for_role(ROLE, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
            perms.add_permission_for_role(ROLE, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
            factory.set_permissions(perms)
        mounts.add_factory("/" + name.strip("/"), factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print("READY", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
