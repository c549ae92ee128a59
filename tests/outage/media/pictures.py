"""Images made for the tests with Pillow: plain ones, one with EXIF (GPS and a rotation),
polyglots with a payload after the image, and a decompression bomb."""

import io
import zipfile

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
ROTATED_90_CW = 6
"""EXIF orientation: the camera was turned, the image is to be shown turned 90° clockwise."""


def picture(kind: str = "JPEG", size: tuple[int, int] = (40, 20), colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=kind)
    return out.getvalue()


def jpeg_with_gps(size: tuple[int, int] = (40, 20)) -> bytes:
    """A JPEG carrying a GPS position and an orientation that turns it upright."""
    exif = Image.Exif()
    exif[ORIENTATION] = ROTATED_90_CW
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (21.0, 1.0, 30.0), 3: "E", 4: (105.0, 51.0, 0.0)})
    out = io.BytesIO()
    Image.new("RGB", size, "blue").save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


HTML_PAYLOAD = b"<html><script>alert(document.cookie)</script></html>"


def jpeg_with_html() -> bytes:
    """A valid JPEG with an HTML page after its end."""
    return picture() + HTML_PAYLOAD


def jpeg_with_zip() -> bytes:
    """A valid JPEG with a ZIP archive after its end (a browser or unzip may read either)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("evil.txt", "payload")
    return picture() + archive.getvalue()


def png_bomb(side: int = 8_000) -> bytes:
    """A small PNG that decodes to `side`² pixels (64 million by default)."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
