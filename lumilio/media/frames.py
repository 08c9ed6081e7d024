"""Pictures for files that are not pictures: a video frame, an album cover."""

from __future__ import annotations

import functools
import io
import logging
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw

from lumilio.media import orientation
from lumilio.media.avprobe import ATTACHED_PICTURE, first_video_stream, open_container
from lumilio.media.errors import MediaError
from lumilio.media.picture import DECODE_ERRORS, Picture, decode_failure

logger = logging.getLogger(__name__)

# Where the poster frame is taken: early enough for short clips, late enough to
# pass the black or blurred first frames many cameras record.
POSTER_AT_S = 1.0
POSTER_AT_SHARE = 0.10
# Decoding stops here even if the wanted time was not reached (broken timestamps).
MAX_FRAMES_AFTER_SEEK = 240
# Cover art smaller than this (some files carry a 1x1 pixel) is no picture.
MIN_COVER_SIDE = 16
PLACEHOLDER_SIDE = 512


def load_video_frame(path: Path) -> Picture:
    """A frame near the start of the video, turned as the display matrix says."""
    grabbed = _grab(path, seek=True)
    if grabbed is None:
        # Seeking in some streams (MPEG-TS) lands past the end of a short clip.
        grabbed = _grab(path, seek=False)
    if grabbed is None:
        raise MediaError("video has no decodable frame")

    frame, aspect = grabbed
    image = _square_pixels(frame.to_image(), aspect)
    # PyAV reports the display matrix counter-clockwise.
    clockwise = round(-frame.rotation) % 360
    image = orientation.apply(image, orientation.for_clockwise(clockwise))
    return Picture(image, image.size)


def _grab(path: Path, seek: bool) -> tuple[av.VideoFrame, Fraction | None] | None:
    with open_container(path) as container:
        stream = first_video_stream(container)
        if stream is None:
            raise MediaError("video has no picture stream")
        try:
            frame = _poster_frame(container, stream, seek)
        except DECODE_ERRORS as error:
            raise decode_failure("video", error) from error
        if frame is None:
            return None
        return frame, stream.codec_context.sample_aspect_ratio


def _square_pixels(image: Image.Image, aspect: Fraction | None) -> Image.Image:
    """Stretch anamorphic video (non-square pixels) to its display shape."""
    if not aspect or aspect == 1:
        return image
    width = max(1, round(image.width * aspect))
    return image.resize((width, image.height), Image.Resampling.BILINEAR)


def _poster_frame(
    container: av.container.InputContainer, stream: av.VideoStream, seek: bool
) -> av.VideoFrame | None:
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    target = start + _poster_offset(container, stream)
    if seek and target > start:
        try:
            container.seek(int(target / stream.time_base), stream=stream)
        except av.FFmpegError as error:
            logger.debug(
                "cannot seek in %s: %s; decoding from the start", container.name, error
            )

    first = chosen = None
    for count, frame in enumerate(container.decode(stream)):
        first = first or frame
        # Frames before the first key frame (open GOPs) refer to pictures the
        # decoder never saw and come out smeared.
        if frame.key_frame or chosen is not None:
            chosen = frame
        reached = frame.time is None or frame.time >= target
        if (reached and chosen is not None) or count >= MAX_FRAMES_AFTER_SEEK:
            break
    return chosen or first


def _poster_offset(
    container: av.container.InputContainer, stream: av.VideoStream
) -> float:
    """Seconds after the first frame: 1 s, or a tenth of a shorter clip."""
    duration = container.duration / av.time_base if container.duration else None
    if duration is None and stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    if not duration:
        return 0.0
    return min(POSTER_AT_S, duration * POSTER_AT_SHARE)


def load_audio_cover(path: Path) -> Picture:
    """The embedded cover art, or a drawn placeholder when there is none."""
    cover = _cover_art(path)
    if cover is None or min(cover.size) < MIN_COVER_SIDE:
        image = placeholder()
        return Picture(image, image.size)
    return Picture(cover, cover.size)


def _cover_art(path: Path) -> Image.Image | None:
    try:
        with open_container(path) as container:
            for stream in container.streams.video:
                if stream.disposition & ATTACHED_PICTURE:
                    packet = next(container.demux(stream), None)
                    if packet is not None and packet.size:
                        return _open_cover(bytes(packet))
    except (MediaError, *DECODE_ERRORS) as error:
        logger.debug("no cover art from %s: %s", path, error)
    return None


def _open_cover(data: bytes) -> Image.Image | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.convert("RGB")
    except DECODE_ERRORS as error:
        logger.debug("cover art unreadable: %s", error)
        return None


def placeholder() -> Image.Image:
    """A grey square with a pair of beamed notes, for audio without cover art."""
    return _placeholder().copy()


@functools.cache
def _placeholder() -> Image.Image:
    side = PLACEHOLDER_SIDE
    image = Image.new("RGB", (side, side), (96, 96, 96))
    draw = ImageDraw.Draw(image)
    ink = (224, 224, 224)
    unit = side / 512

    def box(*coords: float) -> list[float]:
        return [c * unit for c in coords]

    draw.ellipse(box(140, 326, 236, 394), fill=ink)  # left note head
    draw.ellipse(box(290, 296, 386, 364), fill=ink)  # right note head
    draw.rectangle(box(220, 150, 236, 360), fill=ink)  # left stem
    draw.rectangle(box(370, 120, 386, 330), fill=ink)  # right stem
    draw.polygon(box(220, 150, 386, 120, 386, 168, 220, 198), fill=ink)  # beam
    return image
