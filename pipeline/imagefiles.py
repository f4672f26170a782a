"""Image files for posts: what a file really is (a PNG, JPEG, GIF or WebP, decoded whole to be
sure), whether each platform takes it, and a safe name for an upload. Bytes in, facts out: the
file's own name and claimed type are never trusted."""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from pipeline.errors import Invalid

MB = 1_000_000

# Pillow's names for the formats a post may carry, and the file ending we give each.
ENDINGS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}
# A small file can claim a huge canvas; decoding one would take the server's memory. This is
# LinkedIn's own ceiling (36 megapixels), far above what any of the platforms shows.
MAX_PIXELS = 36_152_320
WORDS = {"PNG": "PNG", "JPEG": "JPEG", "GIF": "GIF", "WEBP": "WebP"}


@dataclass(frozen=True)
class Limit:
    """What one platform takes for one still image in a post."""

    max_bytes: int
    formats: frozenset[str]


# From the vendors' documentation (late 2026): re-check a figure before relying on it. The
# formats are also what our adapters send (Facebook's has no WebP). A channel posted by hand
# ("manual") takes whatever the person pastes, so it has no entry.
LIMITS: dict[str, Limit] = {
    "x": Limit(5 * MB, frozenset({"PNG", "JPEG", "GIF", "WEBP"})),
    "bluesky": Limit(1_000_000, frozenset({"PNG", "JPEG", "WEBP"})),  # the blob limit, 976.56 KiB
    # mastodon.social's image_size_limit; an instance may set less (GET /api/v2/instance)
    "mastodon": Limit(16 * 1024 * 1024, frozenset({"PNG", "JPEG", "GIF", "WEBP"})),
    "facebook": Limit(4 * MB, frozenset({"PNG", "JPEG", "GIF"})),
    "instagram": Limit(8 * MB, frozenset({"JPEG"})),
    "linkedin": Limit(5 * MB, frozenset({"PNG", "JPEG", "GIF"})),
}


@dataclass(frozen=True)
class ImageInfo:
    """A real image: its format (Pillow's name), size in bytes, width and height in pixels."""

    format: str
    size: int
    width: int
    height: int

    @property
    def ending(self) -> str:
        """The file ending for its format."""
        return ENDINGS[self.format]

    def describe(self) -> str:
        """For people: "PNG, 1200 × 675 pixels, 84 KB"."""
        return f"{WORDS[self.format]}, {self.width} × {self.height} pixels, {size_words(self.size)}"


def size_words(size: int) -> str:
    """A file size for people: 840 bytes, 84 KB, 1.2 MB."""
    if size < 1000:
        return f"{size} bytes"
    if size < MB:
        return f"{size / 1000:.0f} KB"
    return f"{size / MB:.1f} MB"


def inspect(data: bytes, field: str = "--image") -> ImageInfo:
    """What `data` is, or Invalid (naming `field`) if it is not a whole PNG, JPEG, GIF or WebP
    of a sensible size."""
    # Pillow is imported here, on first use: every `wst` command imports this module through
    # the services, and few of them look at an image (it adds a fifth of a second to each).
    from PIL import Image, UnidentifiedImageError

    refused = Invalid("that file is not a picture we can use; choose a PNG, JPEG, GIF or WebP "
                      "image", field=field)
    if not data:
        raise Invalid("that file is empty; choose the image again", field=field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # only these decoders are tried: an upload never reaches Pillow's rarer ones
            with Image.open(io.BytesIO(data), formats=list(ENDINGS)) as image:
                kind, (width, height) = image.format, image.size
                if width * height > MAX_PIXELS:
                    raise Invalid(f"that image is {width} × {height} pixels; make it smaller "
                                  f"(at most {MAX_PIXELS // 1_000_000} million pixels)",
                                  field=field)
                image.verify()
            with Image.open(io.BytesIO(data), formats=list(ENDINGS)) as image:
                image.load()  # every pixel decoded: a cut-off or damaged file fails here
    except Invalid:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refused from None
    if kind not in ENDINGS:
        raise refused
    return ImageInfo(kind, len(data), width, height)


def problems(info: ImageInfo, platform: str) -> list[str]:
    """Why `platform` would not take this image (nothing if it would)."""
    limit = LIMITS.get(platform)
    if limit is None:
        return []
    out = []
    if info.format not in limit.formats:
        takes = ", ".join(WORDS[f] for f in sorted(limit.formats))
        out.append(f"{platform} does not take {WORDS[info.format]} images; use {takes}")
    if info.size > limit.max_bytes:
        out.append(f"the image is {size_words(info.size)} and {platform} takes at most "
                   f"{size_words(limit.max_bytes)}; save a smaller copy (JPEG is usually smallest)")
    return out


def upload_name(filename: str, data: bytes, info: ImageInfo) -> str:
    """A safe file name for an upload: a few letters of the name it came with (for people),
    a hash of its content (the same picture
    sent twice under one name is one file), and the ending of its real
    format. Never a path: no folder, no dot at the start."""
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    words = "-".join(re.findall(r"[a-z0-9]+", stem.lower()))[:40].strip("-") or "image"
    return f"{words}-{hashlib.sha256(data).hexdigest()[:12]}.{info.ending}"
