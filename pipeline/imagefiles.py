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
from pipeline.files import size
from pipeline.images import LIMITS, over_limit

# Pillow's names for the formats a post may carry, and the file ending we give each.
ENDINGS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}
KINDS = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif", "WEBP": "webp"}
# A small file can claim a huge canvas; decoding one would take the server's memory. This is
# LinkedIn's own ceiling (36 megapixels), far above what any of the platforms shows.
MAX_PIXELS = LIMITS["linkedin"].max_pixels or 36_152_320
WORDS = {"PNG": "PNG", "JPEG": "JPEG", "GIF": "GIF", "WEBP": "WebP"}


@dataclass(frozen=True)
class ImageInfo:
    """A real image: its format (Pillow's name), size in bytes, width and height in pixels."""

    format: str
    size: int
    width: int
    height: int

    @property
    def kind(self) -> str:
        """Its type as pipeline.images names it (png, jpeg, gif, webp)."""
        return KINDS[self.format]

    @property
    def ending(self) -> str:
        """The file ending for its format."""
        return ENDINGS[self.format]

    def describe(self) -> str:
        """For people: "PNG, 1200 × 675 pixels, 84 KB"."""
        return f"{WORDS[self.format]}, {self.width} × {self.height} pixels, {size(self.size)}"


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
    """Why `platform` would not take this image (nothing if it would): the platforms' limits
    are pipeline.images', the same that `wst check` holds every post's image to."""
    refusal = over_limit(info, platform)
    return [f"{platform} would refuse it: the image {refusal}"] if refusal else []


def as_jpeg(data: bytes) -> bytes:
    """The picture as a JPEG, for a platform that takes nothing else (Instagram) or not its
    format (WebP on Facebook): transparency laid on white, an animation's first frame."""
    from PIL import Image

    with Image.open(io.BytesIO(data), formats=list(ENDINGS)) as image:
        image.seek(0)
        rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    out = io.BytesIO()
    flat.save(out, "JPEG", quality=90, optimize=True)
    return out.getvalue()


def takes_jpeg_not(info: ImageInfo, platform: str) -> bool:
    """True when `platform` refuses this image's format but takes a JPEG."""
    limit = LIMITS.get(platform)
    return limit is not None and info.kind not in limit.kinds and "jpeg" in limit.kinds


def upload_name(filename: str, data: bytes, info: ImageInfo) -> str:
    """A safe file name for an upload: a few letters of the name it came with (for people),
    a hash of its content (the same picture
    sent twice under one name is one file), and the ending of its real
    format. Never a path: no folder, no dot at the start."""
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    words = "-".join(re.findall(r"[a-z0-9]+", stem.lower()))[:40].strip("-") or "image"
    return f"{words}-{hashlib.sha256(data).hexdigest()[:12]}.{info.ending}"
