"""Images: what a file really is (by its bytes, not its name) and what each platform accepts.

The type and the pixel size are read from the file's own header, so a text file named .png, or
a JPEG named .png (which an adapter would upload under the wrong type), is caught before anything
is approved or sent. The limits are the platforms' own, from their documentation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pipeline.files import MB, FileRefused, inside, regular
from pipeline.problems import display_path

# Each platform's upload limits: the types it takes, the largest file, the most pixels.
# X: docs.x.com/x-api/media (image 5 MB, GIF 15 MB); Facebook Page photos: 4 MB; Bluesky:
# the app.bsky.embed.images lexicon (blob maxSize 1,000,000); Mastodon: the default
# image_size_limit 16 MiB and image_matrix_limit 33,177,600 (an instance may say less);
# Instagram: JPEG only, 8 MB; LinkedIn: at most 36,152,320 pixels. Email: the types every mail
# client shows (images are fetched from [checks] image_base_url, so no upload limit).
KINDS = ("png", "jpeg", "gif", "webp")


@dataclass(frozen=True)
class Limit:
    """What one platform accepts."""

    label: str
    kinds: tuple[str, ...]
    max_bytes: int | None = None
    max_pixels: int | None = None
    gif_bytes: int | None = None     # a different limit for GIFs (X)


LIMITS = {
    "x": Limit("X", ("png", "jpeg", "gif", "webp"), 5 * MB, gif_bytes=15 * MB),
    "facebook": Limit("Facebook", ("png", "jpeg", "gif"), 4 * MB),
    "bluesky": Limit("Bluesky", KINDS, 1_000_000),
    "mastodon": Limit("Mastodon", KINDS, 16 * 2**20, 33_177_600),
    "instagram": Limit("Instagram", ("jpeg",), 8 * MB),
    "linkedin": Limit("LinkedIn", ("png", "jpeg", "gif"), max_pixels=36_152_320),
    "manual": Limit("copy and paste", KINDS),
    "email": Limit("email", ("png", "jpeg", "gif")),
}
# The largest image file any platform takes: nothing bigger is read at all.
LARGEST = 16 * 2**20
SUFFIXES = {"png": (".png",), "jpeg": (".jpg", ".jpeg"), "gif": (".gif",), "webp": (".webp",)}
NAMES = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WebP"}
MEDIA_TYPES = {suffix: f"image/{kind}" for kind, suffixes in SUFFIXES.items() for suffix in suffixes}


def media_type(path: Path) -> str:
    """The Content-Type an upload of `path` carries: by its suffix, which the content checks
    have matched against its bytes."""
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


@dataclass(frozen=True)
class Image:
    """An image file as its bytes say it is."""

    path: Path
    kind: str       # png, jpeg, gif or webp
    width: int
    height: int
    size: int       # bytes
    digest: str     # a short hash of its bytes (an image takes part in a post's version)


def sniff(data: bytes) -> tuple[str, int, int] | None:
    """(kind, width, height) from an image's header, or None if it is not a whole PNG, JPEG,
    GIF or WebP image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return "png", int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return "gif", int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    return None


def _jpeg(data: bytes) -> tuple[str, int, int] | None:
    """A JPEG's size from its start-of-frame segment (the segments before it are skipped)."""
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:       # padding
            i += 1
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[i + 5:i + 7], "big")
            width = int.from_bytes(data[i + 7:i + 9], "big")
            return "jpeg", width, height
        if length < 2:
            return None
        i += 2 + length
    return None


def _webp(data: bytes) -> tuple[str, int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        return ("webp", int.from_bytes(data[26:28], "little") & 0x3FFF,
                int.from_bytes(data[28:30], "little") & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return ("webp", int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1)
    return None


def open_image(folder: Path, written: str) -> Image:
    """The image `written` names inside `folder`: found, a regular file of a size some platform
    takes, a real image whose name says its type; FileRefused (saying why) otherwise."""
    path = inside(folder, written)
    if not path.exists():
        raise FileRefused(f"not found under {display_path(folder)}/; add the file or fix the path")
    size = regular(path, LARGEST, "image")
    with path.open("rb") as handle:
        data = handle.read(size)
    found = sniff(data)
    if found is None or not found[1] or not found[2]:
        raise FileRefused("is not a PNG, JPEG, GIF or WebP image (its bytes say otherwise); "
                          "save it as one of those")
    kind, width, height = found
    if path.suffix.lower() not in SUFFIXES[kind]:
        raise FileRefused(f"is a {NAMES[kind]} image but its name ends '{path.suffix}'; rename it "
                          f"to end {SUFFIXES[kind][0]} so that it is sent as what it is")
    return Image(path, kind, width, height, size, hashlib.sha256(data).hexdigest()[:16])


class Picture(Protocol):
    """What a platform's limits are about (an Image here, an upload's ImageInfo)."""

    @property
    def kind(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


def over_limit(image: Picture, platform: str) -> str:
    """Why `platform` would refuse `image` ('' if it takes it)."""
    limit = LIMITS.get(platform)
    if limit is None:
        return ""
    if image.kind not in limit.kinds:
        return (f"is a {NAMES[image.kind]} image; {limit.label} takes "
                f"{', '.join(NAMES[k] for k in limit.kinds)}: save it as one of those")
    most = limit.gif_bytes if image.kind == "gif" and limit.gif_bytes else limit.max_bytes
    if most is not None and image.size > most:
        return (f"is {image.size / MB:.1f} MB; {limit.label} takes at most {most / MB:g} MB: "
                f"make it smaller")
    if limit.max_pixels is not None and image.width * image.height > limit.max_pixels:
        return (f"is {image.width}×{image.height} pixels; {limit.label} takes at most "
                f"{limit.max_pixels:,} pixels: make it smaller")
    return ""
