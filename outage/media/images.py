"""Checking and re-encoding one uploaded image, without a database.

The type is what the bytes decode as, never a file name or a declared content type. The
image is decoded and encoded afresh: what is kept holds the pixels only, with the EXIF
orientation applied, and no metadata (EXIF with GPS, comments, ICC) nor anything a file
carried after its image (an HTML page or a ZIP archive appended to a JPEG).
"""

import hashlib
import io
import threading
import warnings
from dataclasses import dataclass
from functools import cache
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from outage.media.errors import CorruptImage, NotAnImage, PhotoTooLarge

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
"""What we take, by Pillow's name, with the content type we answer it with (a phone's
multi-picture JPEG, MPO, is taken as the JPEG it starts with)."""

LARGEST_SIDE = 4096
"""A photo is kept at most this many pixels wide and high (made smaller, never larger):
enough to read a pole's number plate, a fraction of a 50-megapixel phone photo's bytes."""

THUMBNAIL_SIZE = (320, 320)
"""The longest side of a thumbnail, for the crew's job card and the dispatcher's panel."""

_QUALITY = 85
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class CleanImage:
    """An image as we keep it: re-encoded in its own format, with its thumbnail."""

    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str
    thumbnail: bytes


def read_bounded(stream: BinaryIO, *, max_bytes: int) -> bytes:
    """The whole stream, read a chunk at a time; PhotoTooLarge past `max_bytes`, holding
    never more than that (and one chunk) in memory."""
    chunks: list[bytes] = []
    read = 0
    while chunk := stream.read(_CHUNK):
        read += len(chunk)
        if read > max_bytes:
            raise PhotoTooLarge(f"a photo may be at most {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def check_size(data: bytes, *, max_bytes: int) -> None:
    """PhotoTooLarge past `max_bytes`, NotAnImage when empty: what is refused unread."""
    if len(data) > max_bytes:
        raise PhotoTooLarge(f"a photo may be at most {max_bytes} bytes")
    if not data:
        raise NotAnImage("the photo is empty")


def clean(data: bytes, *, max_bytes: int, max_pixels: int, at_once: int = 2) -> CleanImage:
    """Decode `data` as JPEG, PNG or WebP and encode it afresh, or refuse it: too large
    (PhotoTooLarge), not one of those (NotAnImage), or not decodable or too many pixels
    (CorruptImage, before any pixel is decoded). At most `at_once` images are decoded at
    the same time in the process; others wait."""
    check_size(data, max_bytes=max_bytes)
    try:
        with _turns(at_once):
            return _reencode(data, max_pixels=max_pixels)
    except (NotAnImage, CorruptImage):
        raise
    except UnidentifiedImageError:
        raise NotAnImage("the photo must be a JPEG, PNG or WebP image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise CorruptImage(f"the photo has more than {max_pixels} pixels") from None
    except Exception as exc:  # whatever a hostile file makes a decoder raise
        raise CorruptImage(f"the photo cannot be decoded: {exc}") from None


@cache
def _turns(at_once: int) -> threading.BoundedSemaphore:
    """The process's turns at decoding, shared by every caller asking for as many."""
    return threading.BoundedSemaphore(at_once)


def _reencode(data: bytes, *, max_pixels: int) -> CleanImage:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        kind = "JPEG" if image.format == "MPO" else image.format or ""
        if kind not in FORMATS:
            raise NotAnImage("the photo must be a JPEG, PNG or WebP image")
        width, height = image.size
        if width * height > max_pixels:
            raise CorruptImage(
                f"the photo has {width}x{height} pixels; at most {max_pixels} are taken"
            )
        if kind == "JPEG":  # decoded at a fraction of its size when that still covers ours
            image.draft(None, (LARGEST_SIDE, LARGEST_SIDE))
        image.load()
        pixels = _plain(ImageOps.exif_transpose(image), kind)
    pixels.thumbnail((LARGEST_SIDE, LARGEST_SIDE))
    encoded = _encode(pixels, kind)
    small = pixels.copy()
    small.thumbnail(THUMBNAIL_SIZE)
    return CleanImage(
        data=encoded,
        content_type=FORMATS[kind],
        width=pixels.width,
        height=pixels.height,
        sha256=hashlib.sha256(encoded).hexdigest(),
        thumbnail=_encode(small, kind),
    )


def _plain(image: Image.Image, kind: str) -> Image.Image:
    """The pixels alone, in a mode the format stores, with no metadata to carry over."""
    if kind == "JPEG":
        wanted = "L" if image.mode in ("L", "1") else "RGB"
    else:
        wanted = image.mode if image.mode in ("L", "LA", "RGB", "RGBA") else "RGBA"
    plain = image.convert(wanted) if image.mode != wanted else image.copy()
    plain.info = {}
    return plain


def _encode(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "PNG":  # not `optimize`: its search makes large images slow to encode
        image.save(out, format=kind)
    else:
        image.save(out, format=kind, quality=_QUALITY)
    return out.getvalue()
