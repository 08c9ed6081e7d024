"""Stream facts of videos and audio read through PyAV (FFmpeg's demuxers).

exiftool knows dates, places and cameras well but names codecs by their container
tags ('avc1', 'hvc1') and misses some durations (Opus). FFmpeg reads every stream,
so both readers take codec, rates, channels and, when needed, the rest from here.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import av

from lumilio.media.dates import parse_stamp
from lumilio.media.errors import MediaError
from lumilio.media.info import Facts, TimeCandidate
from lumilio.media.values import as_float, as_text, codec_name, year_from

logger = logging.getLogger(__name__)

ATTACHED_PICTURE = av.stream.Disposition.attached_pic
_ISO6709 = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)")
# FFmpeg's names for the same tags in different containers.
_MAKE_KEYS = ("com.apple.quicktime.make", "make", "com.android.manufacturer")
_MODEL_KEYS = ("com.apple.quicktime.model", "model", "com.android.model")
_LOCATION_KEYS = ("com.apple.quicktime.location.ISO6709", "location")


def open_container(path: Path) -> av.container.InputContainer:
    """Open a media file for reading, turning FFmpeg's errors into MediaError."""
    try:
        return av.open(str(path), mode="r", metadata_errors="replace")
    except av.FFmpegError as error:
        raise MediaError(f"cannot read media container: {_reason(error)}") from error


def first_video_stream(container: av.container.InputContainer) -> av.VideoStream | None:
    for stream in container.streams.video:
        if not stream.disposition & ATTACHED_PICTURE:
            return stream
    return None


def probe(path: Path, *, decode_rotation: bool = False) -> Facts:
    """What FFmpeg knows about the streams of a video or audio file.

    `decode_rotation` decodes the first frame to learn the display rotation, which
    PyAV only exposes per frame; the exiftool reader gets it from the file instead.
    """
    with open_container(path) as container:
        facts = Facts()
        _read_container(container, facts)

        video = first_video_stream(container)
        if video is not None:
            _read_video(video, facts)
            if decode_rotation:
                facts.rotation = _first_frame_rotation(container, video)
        audio = container.streams.audio[0] if container.streams.audio else None
        if audio is not None:
            _read_audio(audio, facts, as_main=video is None)

    logger.debug("probed %s: codec=%s duration=%s", path, facts.codec, facts.duration)
    return facts


def _read_container(container: av.container.InputContainer, facts: Facts) -> None:
    tags = {key.lower(): value for key, value in container.metadata.items()}
    if container.duration:
        facts.duration = container.duration / av.time_base
    facts.bitrate = container.bit_rate or None

    apple_date = parse_stamp(tags.get("com.apple.quicktime.creationdate"))
    if apple_date is not None:
        facts.times.append(TimeCandidate(apple_date, "quicktime"))
    # FFmpeg renders the movie header's creation time as UTC ISO text.
    created = parse_stamp(tags.get("creation_time"))
    if created is not None and created.wall.year > 1904:
        facts.times.append(TimeCandidate(created, "quicktime", utc=True))

    facts.make = _first_tag(tags, _MAKE_KEYS)
    facts.model = _first_tag(tags, _MODEL_KEYS)
    facts.content_identifier = as_text(
        tags.get("com.apple.quicktime.content.identifier")
    )
    facts.description = as_text(tags.get("description") or tags.get("comment"))
    facts.gps_raw = _location(
        _first_tag(tags, tuple(k.lower() for k in _LOCATION_KEYS))
    )

    facts.title = as_text(tags.get("title"))
    facts.artist = as_text(tags.get("artist") or tags.get("album_artist"))
    facts.album = as_text(tags.get("album"))
    facts.genre = as_text(tags.get("genre"))
    facts.year = year_from(tags.get("date") or tags.get("year"))


def _read_video(stream: av.VideoStream, facts: Facts) -> None:
    context = stream.codec_context
    facts.codec = codec_name(context.name)
    facts.width = context.width or None
    facts.height = context.height or None
    rate = stream.average_rate or stream.guessed_rate
    facts.frame_rate = round(float(rate), 3) if rate else None
    if context.bit_rate:
        facts.bitrate = context.bit_rate
    if facts.duration is None and stream.duration and stream.time_base:
        facts.duration = float(stream.duration * stream.time_base)


def _read_audio(stream: av.AudioStream, facts: Facts, as_main: bool) -> None:
    context = stream.codec_context
    facts.sample_rate = context.sample_rate or None
    facts.channels = context.channels or None
    if not as_main:
        return

    facts.codec = codec_name(context.name, audio=True)
    if context.bit_rate:
        facts.bitrate = context.bit_rate
    if facts.duration is None and stream.duration and stream.time_base:
        facts.duration = float(stream.duration * stream.time_base)


def _first_frame_rotation(
    container: av.container.InputContainer, stream: av.VideoStream
) -> int | None:
    try:
        for frame in container.decode(stream):
            # PyAV gives the display matrix angle counter-clockwise; files and
            # exiftool speak of the clockwise turn needed to display the frame.
            return round(-frame.rotation) % 360
    except av.FFmpegError as error:
        logger.debug("no frame decoded for rotation: %s", _reason(error))
    return None


def _first_tag(tags: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        text = as_text(tags.get(key.lower()))
        if text:
            return text
    return None


def _location(text: str | None) -> tuple[float, float] | None:
    match = _ISO6709.match(text or "")
    if match is None:
        return None
    lat, lon = as_float(match.group(1)), as_float(match.group(2))
    return (lat, lon) if lat is not None and lon is not None else None


def _reason(error: Exception) -> str:
    message = getattr(error, "strerror", None) or str(error)
    return str(message).strip() or type(error).__name__
