"""Checking and re-encoding an image: the type from the bytes, limits, nothing carried over."""

import contextlib
import io
import threading
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from outage.media import images
from outage.media.errors import CorruptImage, NotAnImage, PhotoTooLarge
from tests.conftest import FUZZ
from tests.outage.media import pictures

MAX_BYTES = 1024 * 1024
MAX_PIXELS = 10_000_000


def clean(data: bytes) -> images.CleanImage:
    return images.clean(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")],
)
def test_jpeg_png_and_webp_are_taken_in_their_own_type(kind: str, content_type: str) -> None:
    kept = clean(pictures.picture(kind))
    assert (kept.content_type, kept.width, kept.height) == (content_type, 40, 20)
    assert Image.open(io.BytesIO(kept.data)).format == kind


def test_a_pdf_is_not_an_image() -> None:
    with pytest.raises(NotAnImage):
        clean(pictures.pdf())


def test_text_is_not_an_image() -> None:
    with pytest.raises(NotAnImage):
        clean(b"just some words, whatever the file was called")


def test_a_gif_is_not_taken() -> None:
    with pytest.raises(NotAnImage):
        clean(pictures.picture("GIF"))


def test_a_truncated_jpeg_is_corrupt() -> None:
    with pytest.raises(CorruptImage):
        clean(pictures.picture(size=(400, 300))[:300])


def test_more_bytes_than_the_limit_are_too_large() -> None:
    with pytest.raises(PhotoTooLarge):
        images.clean(pictures.picture(), max_bytes=100, max_pixels=MAX_PIXELS)


def test_reading_stops_past_the_limit() -> None:
    stream = io.BytesIO(b"x" * (MAX_BYTES * 3))
    with pytest.raises(PhotoTooLarge):
        images.read_bounded(stream, max_bytes=MAX_BYTES)
    assert stream.tell() <= MAX_BYTES + 64 * 1024


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    bomb = pictures.png_bomb()
    assert len(bomb) < MAX_BYTES
    with pytest.raises(CorruptImage, match="pixels"):
        clean(bomb)


def test_exif_with_gps_is_dropped_and_the_orientation_applied() -> None:
    kept = clean(pictures.jpeg_with_gps(size=(40, 20)))
    stored = Image.open(io.BytesIO(kept.data))
    assert (stored.width, stored.height) == (20, 40)
    assert not stored.getexif()
    assert "exif" not in stored.info


@pytest.mark.parametrize("polyglot", [pictures.jpeg_with_html, pictures.jpeg_with_zip])
def test_a_payload_after_the_image_is_not_kept(polyglot: Callable[[], bytes]) -> None:
    kept = clean(polyglot())
    assert kept.data.endswith(b"\xff\xd9")
    assert b"<html" not in kept.data
    assert b"PK\x03\x04" not in kept.data


def test_the_thumbnail_is_small() -> None:
    kept = clean(pictures.picture(size=(1600, 800)))
    thumbnail = Image.open(io.BytesIO(kept.thumbnail))
    assert max(thumbnail.size) == max(images.THUMBNAIL_SIZE)


def test_a_very_large_photo_is_kept_smaller() -> None:
    kept = clean(pictures.picture(size=(images.LARGEST_SIDE * 2, 100)))
    assert (kept.width, kept.height) == (images.LARGEST_SIDE, 50)


@given(
    prefix=st.sampled_from([b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBPVP8 "]),
    rest=st.binary(max_size=2000),
)
@settings(FUZZ)
def test_any_bytes_are_an_image_or_a_clear_refusal(prefix: bytes, rest: bytes) -> None:
    with contextlib.suppress(NotAnImage, CorruptImage):
        clean(prefix + rest)


@pytest.mark.parametrize("cut", [100, 200, 400, 600])
def test_a_png_cut_short_is_a_clear_refusal(cut: int) -> None:
    with pytest.raises((NotAnImage, CorruptImage)):
        clean(pictures.picture("PNG", size=(300, 200), colour="purple")[:cut])


def test_images_past_the_decodes_at_once_wait_their_turn() -> None:
    at_once = 1
    done = threading.Event()

    def decode() -> None:
        images.clean(
            pictures.picture(), max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, at_once=at_once
        )
        done.set()

    turns = images._turns(at_once)
    with turns:
        threading.Thread(target=decode, daemon=True).start()
        assert not done.wait(0.3), "decoded while every turn was taken"
    assert done.wait(10)
