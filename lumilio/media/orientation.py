"""EXIF orientation codes as the Pillow transposes that display an image upright."""

from __future__ import annotations

from PIL import Image

Transpose = Image.Transpose

# What to do to the stored pixels so they show the way the camera was held.
EXIF_TRANSPOSES: dict[int, tuple[Transpose, ...]] = {
    1: (),
    2: (Transpose.FLIP_LEFT_RIGHT,),
    3: (Transpose.ROTATE_180,),
    4: (Transpose.FLIP_TOP_BOTTOM,),
    5: (Transpose.TRANSPOSE,),
    6: (Transpose.ROTATE_270,),
    7: (Transpose.TRANSVERSE,),
    8: (Transpose.ROTATE_90,),
}

# A clockwise display rotation (video display matrices, RAW flips) as a transpose.
CLOCKWISE_TRANSPOSES: dict[int, tuple[Transpose, ...]] = {
    0: (),
    90: (Transpose.ROTATE_270,),
    180: (Transpose.ROTATE_180,),
    270: (Transpose.ROTATE_90,),
}


def for_exif(orientation: int | None) -> tuple[Transpose, ...]:
    return EXIF_TRANSPOSES.get(orientation or 1, ())


def for_clockwise(degrees: int | None) -> tuple[Transpose, ...]:
    return CLOCKWISE_TRANSPOSES.get((degrees or 0) % 360, ())


def apply(image: Image.Image, transposes: tuple[Transpose, ...]) -> Image.Image:
    for transpose in transposes:
        image = image.transpose(transpose)
    return image


def swaps_sides(transposes: tuple[Transpose, ...]) -> bool:
    """Whether these transposes turn a landscape image into a portrait one."""
    quarter = {
        Transpose.ROTATE_90,
        Transpose.ROTATE_270,
        Transpose.TRANSPOSE,
        Transpose.TRANSVERSE,
    }
    return sum(t in quarter for t in transposes) % 2 == 1
