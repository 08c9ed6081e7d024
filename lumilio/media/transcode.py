"""Web versions of videos and audio: what a browser can play, made with PyAV.

Videos: an MP4 whose picture is 8-bit 4:2:0 H.264 and whose sound (if any) is AAC or
MP3, fitting 1920x1080 in its own orientation and carrying no rotation flag, plays
in every browser as it is and needs no copy. Anything else (HEVC, AVCHD `.mts`, AVI,
3GP, QuickTime, phone clips with a rotation flag, 4K) becomes H.264 (x264, CRF 23)
with AAC 128 kb/s in an MP4 laid out for streaming (`faststart`), scaled down to fit
1920x1080 (1080x1920 for portrait), with the display rotation applied to the pixels
and interlaced frames (camcorders) deinterlaced.

Audio: Chromium plays MP3, AAC (M4A), FLAC, WAV (PCM), Opus and Vorbis as they are.
Other codecs (ALAC, WMA, AIFF, AC-3, AMR...) become MP3 at 44.1 kHz stereo, 192 kb/s
(128 kb/s when the source carries less than 192).

Outputs are written to a hidden temporary file beside the target and renamed into
place, so a reader never sees half a file.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.filter

from lumilio.media.avprobe import first_video_stream, open_container
from lumilio.media.errors import MediaError
from lumilio.media.picture import DECODE_ERRORS, decode_failure

logger = logging.getLogger(__name__)

WEB_LONG_SIDE = 1920
WEB_SHORT_SIDE = 1080
X264_PRESET = "veryfast"
X264_CRF = "23"
AAC_BITRATE = 128_000
MP3_RATE = 44_100
MP3_BITRATE = 192_000
MP3_LOW_BITRATE = 128_000

PLAYABLE_VIDEO_CODECS = {"h264"}
PLAYABLE_VIDEO_AUDIO = {"aac", "mp3"}
# What Chromium decodes itself, by container family and codec.
PLAYABLE_AUDIO = {
    "mp3": {"mp3"},
    "flac": {"flac"},
    "ogg": {"opus", "vorbis", "flac"},
    "wav": {"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le"},
    "mov,mp4,m4a,3gp,3g2,mj2": {"aac", "mp3", "flac", "opus"},
    "matroska,webm": {"opus", "vorbis"},
}


@dataclass(frozen=True)
class VideoPlan:
    """How a video becomes playable: as it is (reason None), or transcoded."""

    reason: str | None
    width: int
    height: int
    rotation: int  # clockwise degrees to display the stored pixels upright


@dataclass(frozen=True)
class AudioPlan:
    reason: str | None
    bitrate: int | None


# -- deciding ---------------------------------------------------------------------


def plan_video(path: Path, mime: str) -> VideoPlan:
    """Whether the video plays in a browser as it is, and if not, why."""
    with open_container(path) as container:
        stream = first_video_stream(container)
        if stream is None:
            raise MediaError("video has no picture stream")
        context = stream.codec_context
        rotation = _rotation(container, stream)
        audio = _first_audio(container)
        audio_codec = _codec(audio) if audio is not None else None
        width, height = context.width, context.height
        codec, pix_fmt = _codec(stream), context.pix_fmt

    reasons = []
    if mime != "video/mp4":
        reasons.append(f"container {mime}")
    if codec not in PLAYABLE_VIDEO_CODECS:
        reasons.append(f"codec {codec}")
    elif pix_fmt not in ("yuv420p", "yuvj420p"):
        reasons.append(f"pixel format {pix_fmt}")
    if audio_codec is not None and audio_codec not in PLAYABLE_VIDEO_AUDIO:
        reasons.append(f"audio {audio_codec}")
    if rotation:
        reasons.append(f"rotated {rotation}")
    if not _fits(width, height):
        reasons.append(f"size {width}x{height}")
    return VideoPlan("; ".join(reasons) or None, width, height, rotation)


def plan_audio(path: Path) -> AudioPlan:
    with open_container(path) as container:
        stream = _first_audio(container)
        if stream is None:
            raise MediaError("file has no sound stream")
        codec = _codec(stream)
        bitrate = stream.codec_context.bit_rate or container.bit_rate or None
        family = container.format.name

    playable = PLAYABLE_AUDIO.get(family, set())
    reason = None if codec in playable else f"{codec} in {family}"
    return AudioPlan(reason, bitrate)


def _fits(width: int, height: int) -> bool:
    return max(width, height) <= WEB_LONG_SIDE and min(width, height) <= WEB_SHORT_SIDE


def _codec(stream: av.stream.Stream) -> str:
    """The codec's own name (`mp3`), not the decoder's (`mp3float`)."""
    return stream.codec_context.codec.canonical_name


def _first_audio(container: av.container.InputContainer) -> av.AudioStream | None:
    return container.streams.audio[0] if container.streams.audio else None


def _rotation(container: av.container.InputContainer, stream: av.VideoStream) -> int:
    """Clockwise display rotation, read from the first frame's display matrix."""
    try:
        for frame in container.decode(stream):
            # PyAV gives the display matrix angle counter-clockwise.
            return round(-frame.rotation) % 360
    except DECODE_ERRORS as error:
        raise decode_failure("video", error) from error
    raise MediaError("video has no decodable frame")


def web_size(
    width: int, height: int, rotation: int, sample_aspect: Fraction | None = None
) -> tuple[int, int]:
    """Display size after rotation and square pixels, fitted to 1080p, even sides."""
    if sample_aspect and sample_aspect > 0 and sample_aspect != 1:
        width = round(width * sample_aspect)
    if rotation in (90, 270):
        width, height = height, width
    long_limit, short_limit = WEB_LONG_SIDE, WEB_SHORT_SIDE
    limits = (long_limit, short_limit) if width >= height else (short_limit, long_limit)
    scale = min(1.0, limits[0] / width, limits[1] / height)
    return _even(width * scale), _even(height * scale)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


# -- writing ----------------------------------------------------------------------


@contextmanager
def _atomic(target: Path) -> Iterator[Path]:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def transcode_video(source: Path, target: Path, plan: VideoPlan) -> None:
    """Write the H.264/AAC MP4 web version of `source` to `target`."""
    try:
        with _atomic(target) as temporary:
            _encode_video(source, temporary, plan)
    except DECODE_ERRORS as error:
        raise decode_failure("video", error) from error
    logger.debug("web video of %s written (%s)", source, plan.reason)


def _encode_video(source: Path, temporary: Path, plan: VideoPlan) -> None:
    with (
        open_container(source) as inp,
        av.open(
            str(temporary), "w", format="mp4", options={"movflags": "+faststart"}
        ) as out,
    ):
        vin = first_video_stream(inp)
        ain = _first_audio(inp)
        assert vin is not None
        width, height = web_size(
            plan.width, plan.height, plan.rotation, vin.sample_aspect_ratio
        )
        rate = vin.average_rate or vin.guessed_rate or Fraction(30)

        vout = out.add_stream("libx264", rate=rate)
        vout.width, vout.height = width, height
        vout.pix_fmt = "yuv420p"
        vout.time_base = vin.time_base
        vout.codec_context.time_base = vin.time_base
        # Peak rate in line with the picture size keeps a noisy clip from
        # ballooning; CRF decides the rest.
        peak = max(500, width * height // 300)
        vout.options = {
            "preset": X264_PRESET,
            "crf": X264_CRF,
            "maxrate": f"{peak}k",
            "bufsize": f"{2 * peak}k",
        }

        sound = _AudioTrack(out, ain, "aac", AAC_BITRATE) if ain else None
        graph = _VideoFilter(vin, plan.rotation, width, height)
        streams = [s for s in (vin, ain) if s is not None]
        for packet in inp.demux(*streams):
            if packet.stream is vin:
                for frame in _decode(packet):
                    for ready in graph.push(frame):
                        out.mux(vout.encode(ready))
            elif sound is not None:
                for frame in _decode(packet):
                    sound.encode(frame)

        for ready in graph.flush():
            out.mux(vout.encode(ready))
        out.mux(vout.encode(None))
        if sound is not None:
            sound.flush()


def _decode(packet: av.Packet) -> list:
    # A damaged packet in the middle of a clip costs that frame, not the clip.
    try:
        return packet.decode()
    except av.InvalidDataError as error:
        logger.debug("skipping an undecodable packet: %s", error)
        return []


class _VideoFilter:
    """Deinterlace, turn upright, scale and convert to 4:2:0, with FFmpeg's filters."""

    def __init__(self, stream: av.VideoStream, rotation: int, width: int, height: int):
        self.graph = av.filter.Graph()
        nodes = [self.graph.add_buffer(template=stream)]
        # Only frames flagged interlaced are touched (AVCHD camcorders).
        nodes.append(self.graph.add("yadif", "mode=send_frame:deint=interlaced"))
        turn = {
            90: ["transpose=clock"],
            180: ["hflip", "vflip"],
            270: ["transpose=cclock"],
        }.get(rotation, [])
        for spec in turn:
            name, _, args = spec.partition("=")
            nodes.append(self.graph.add(name, args or None))
        nodes.append(self.graph.add("scale", f"{width}:{height}:flags=bicubic"))
        nodes.append(self.graph.add("setsar", "1"))
        nodes.append(self.graph.add("format", "yuv420p"))
        nodes.append(self.graph.add("buffersink"))
        self.graph.link_nodes(*nodes).configure()
        self.origin: int | None = None
        self.last_pts: int | None = None

    def push(self, frame: av.VideoFrame) -> list[av.VideoFrame]:
        self.graph.push(frame)
        return self._drain()

    def flush(self) -> list[av.VideoFrame]:
        self.graph.push(None)
        return self._drain()

    def _drain(self) -> list[av.VideoFrame]:
        ready = []
        while True:
            try:
                frame = self.graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return ready
            ready.append(self._retimed(frame))

    def _retimed(self, frame: av.VideoFrame) -> av.VideoFrame:
        # The web version starts at zero, as its sound does (camcorder streams
        # start a second or more in). Encoders refuse time going backwards
        # (broken streams): such a frame is nudged just after the previous one.
        pts = frame.pts if frame.pts is not None else (self.last_pts or 0) + 1
        if self.origin is None:
            self.origin = pts
        pts -= self.origin
        if self.last_pts is not None and pts <= self.last_pts:
            pts = self.last_pts + 1
        frame.pts = self.last_pts = pts
        # Keep the decoder's frame types from forcing key frames on the encoder.
        frame.pict_type = av.video.frame.PictureType.NONE
        return frame


class _AudioTrack:
    """An output audio stream fed through a resampler that cuts encoder-sized frames."""

    def __init__(
        self,
        out: av.container.OutputContainer,
        source: av.AudioStream,
        codec: str,
        bitrate: int,
        rate: int | None = None,
    ):
        context = source.codec_context
        channels = context.channels or 2
        layout = "mono" if channels == 1 and codec == "aac" else "stereo"
        rate = rate or min(context.sample_rate or 48_000, 48_000)
        self.out = out
        self.stream = out.add_stream(codec, rate=rate)
        self.stream.layout = layout
        self.stream.bit_rate = bitrate
        self.stream.codec_context.open()
        frame_size = self.stream.codec_context.frame_size or None
        sample_format = self.stream.codec_context.format.name
        self.resampler = av.AudioResampler(
            format=sample_format, layout=layout, rate=rate, frame_size=frame_size
        )

    def encode(self, frame: av.AudioFrame | None) -> None:
        if frame is not None:
            frame.pts = None  # the resampler counts samples itself
        for chunk in self.resampler.resample(frame):
            self.out.mux(self.stream.encode(chunk))

    def flush(self) -> None:
        self.encode(None)
        self.out.mux(self.stream.encode(None))


def transcode_audio(source: Path, target: Path, plan: AudioPlan) -> None:
    """Write the MP3 web version of `source` to `target`."""
    bitrate = MP3_BITRATE
    if plan.bitrate and plan.bitrate < MP3_BITRATE:
        bitrate = MP3_LOW_BITRATE
    try:
        with _atomic(target) as temporary:
            _encode_audio(source, temporary, bitrate)
    except DECODE_ERRORS as error:
        raise decode_failure("audio", error) from error
    logger.debug("web audio of %s written (%s)", source, plan.reason)


def _encode_audio(source: Path, temporary: Path, bitrate: int) -> None:
    with open_container(source) as inp, av.open(str(temporary), "w",
                                                format="mp3") as out:
        ain = _first_audio(inp)
        if ain is None:
            raise MediaError("file has no sound stream")
        for key in ("title", "artist", "album", "genre", "date"):
            if inp.metadata.get(key):
                out.metadata[key] = inp.metadata[key]

        sound = _AudioTrack(out, ain, "libmp3lame", bitrate, rate=MP3_RATE)
        for packet in inp.demux(ain):
            for frame in _decode(packet):
                sound.encode(frame)
        sound.flush()
