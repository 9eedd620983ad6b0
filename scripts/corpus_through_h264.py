"""The scenario corpus scored after passing through H.264 as a camera's sub stream does: each clip's rendered
frames are encoded (libx264, Main profile, 512 kbit/s unless `--bit-rate` says, a keyframe every 2 s) and
decoded again, with the decoder's options under test, before the bank gets them. It shows what the coding does
to detection (block noise, smeared edges, IR grain) and what a decoder shortcut would cost in quality.

    python scripts/corpus_through_h264.py [--decoder-option skip_loop_filter=all] [--scenario NAME ...]
                                          [--cache DIR] [--missed] [--fps N] [--max-fps N] [--bit-rate KBITS]

Prints one JSON line. About 75 CPU-s per scenario on this machine (rendering and encoding dominate); with
`--cache`, the decoded work frames are kept (in a subdirectory named by the bit rate and the decoder's options)
and a scenario plays again in a few CPU-s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import fields, replace
from fractions import Fraction
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.demo.synthetic import Frame
from scripts import make_detect_corpus as corpus

GOP_SECONDS = 2
KBITS = 512  # a common sub stream's bit rate (kbit/s), unless --bit-rate says


class CodedClip(corpus.Clip):
    """A corpus clip whose frames come out of an H.264 encoder and decoder."""

    decoder_options: dict[str, str] = {}  # noqa: RUF012 (set once per run, before any clip plays)
    bit_rate = KBITS * 1000  # bits a second (set once per run too)

    def frames(self) -> Iterator[tuple[Frame, bool]]:
        width, height = self.spec.width, self.spec.height
        encoder = av.CodecContext.create("libx264", "w")
        assert isinstance(encoder, av.VideoCodecContext)
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        encoder.time_base, encoder.framerate = Fraction(1, self.spec.fps), Fraction(self.spec.fps)
        encoder.bit_rate, encoder.gop_size = self.bit_rate, GOP_SECONDS * self.spec.fps
        encoder.options = {"preset": "veryfast", "profile": "main", "tune": "zerolatency"}  # a frame in, a frame out
        decoder = av.CodecContext.create("h264", "r")
        assert isinstance(decoder, av.VideoCodecContext)
        decoder.thread_type = "NONE"
        decoder.options = dict(self.decoder_options)
        for index, (rendered, lost) in enumerate(super().frames()):
            picture = av.VideoFrame.from_ndarray(rendered.image, format="yuv420p")
            picture.pts = index
            decoded = [out for packet in encoder.encode(picture) for out in decoder.decode(packet)]
            yield (replace(rendered, image=decoded[-1].to_ndarray(format="yuv420p")) if decoded else rendered), lost


def coded(clip: corpus.Clip) -> CodedClip:
    return CodedClip(**{f.name: getattr(clip, f.name) for f in fields(clip)})


def coding_name() -> str:
    """The cache's subdirectory for this coding: the bit rate and the decoder's options."""
    options = "".join(f"-{name}={value}" for name, value in sorted(CodedClip.decoder_options.items()))
    return f"h264-{CodedClip.bit_rate // 1000}k{options}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=sorted(corpus.SCENARIOS), help="default: all")
    parser.add_argument("--decoder-option", action="append", default=[], metavar="NAME=VALUE",
                        help="an FFmpeg decoder option, e.g. skip_loop_filter=all")
    parser.add_argument("--cache", type=Path, help="keep the clips' decoded work frames under this directory")
    parser.add_argument("--missed", action="store_true", help="list the objects missed and the false alarms")
    parser.add_argument("--bit-rate", type=corpus.positive(int), default=KBITS, metavar="KBITS",
                        help=f"the sub stream's bit rate, kbit/s (default: {KBITS})")
    corpus.add_clip_arguments(parser)
    arguments = parser.parse_args()
    CodedClip.decoder_options = dict(option.split("=", 1) for option in arguments.decoder_option)
    CodedClip.bit_rate = arguments.bit_rate * 1000
    started = time.process_time()
    cache = arguments.cache / coding_name() if arguments.cache else None
    table = {}
    for name in arguments.scenario or list(corpus.SCENARIOS):
        clips: list[corpus.Clip] = [coded(clip) for clip in corpus.redrawn(
            corpus.at_rate(corpus.SCENARIOS[name](), arguments.fps), arguments.draw)]
        total = corpus.scored(clips, corpus.work_frames(clips, cache), max_fps=arguments.max_fps)
        table[name] = total.table() | ({"missed": total.missed} if arguments.missed else {})
    print(json.dumps({"decoder_options": CodedClip.decoder_options, "bit_rate": CodedClip.bit_rate, "quality": table,
                      "cpu_seconds": round(time.process_time() - started, 1)}))


if __name__ == "__main__":
    main()
