"""The composer's pictures: the images in content/images/ to choose from, a chosen one found only
inside that folder, and an upload checked to be a real image that the chosen platforms take
before it is saved there under a name of our own."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from pipeline.errors import Invalid, NotAllowed
from pipeline.imagefiles import ImageInfo, as_jpeg, inspect, problems, takes_jpeg_not, upload_name
from pipeline.policy import writing_refusal
from pipeline.reactive import RESPONSIBILITY
from pipeline.services.actor import Actor, known_person
from pipeline.workspace import Workspace

FOLDER = "images"  # under content/
SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")


def folder(ws: Workspace) -> Path:
    """content/images/, resolved."""
    return (Path(ws.config.content_dir) / FOLDER).resolve()


def library(ws: Workspace) -> list[str]:
    """The images to choose from, as names relative to content/ ("images/sid.jpg")."""
    root = folder(ws)
    if not root.is_dir():
        return []
    content = root.parent
    found = []
    for path in root.rglob("*"):
        real = path.resolve()
        # a link that leads out of the folder is not one of its images
        if path.suffix.lower() in SUFFIXES and real.is_relative_to(root) and real.is_file():
            found.append(path.relative_to(content).as_posix())
    return sorted(found)


def chosen(ws: Workspace, name: str, field: str = "image") -> Path:
    """The file of an image chosen from the library, or Invalid: only a file of content/images/
    is ever given (no "..", no link out of it)."""
    root = folder(ws)
    path = (root.parent / name).resolve()
    if (not name or not path.is_relative_to(root) or path.suffix.lower() not in SUFFIXES
            or not path.is_file()):
        raise Invalid(f"there is no image '{name}' in content/{FOLDER}/; choose one from the list",
                      field=field)
    return path


def info_of(path: Path, field: str = "image") -> ImageInfo:
    """What an image file is (kept while the file is unchanged: the composer asks as people type)."""
    stat = path.stat()
    return _info(str(path), stat.st_mtime_ns, stat.st_size, field)


@lru_cache(maxsize=64)
def _info(path: str, _mtime: int, _size: int, field: str) -> ImageInfo:
    return inspect(Path(path).read_bytes(), field)


def fit(ws: Workspace, info: ImageInfo, channels: Iterable[str]) -> list[str]:
    """Why the chosen channels would not take this image ("x: ..."), or nothing."""
    settings = ws.config.settings.channels
    return [f"{name}: {p}" for name in channels if name in settings
            for p in problems(info, settings[name].kind)]


def may_upload(ws: Workspace, person: str, responsibility: str = RESPONSIBILITY) -> None:
    """NotAllowed unless `person` may write the work the upload is for (by default reactive
    posts; a campaign's posts, a bulletin)."""
    settings = ws.config.settings
    known_person(settings, person)
    refusal = writing_refusal(settings, responsibility, person)
    if refusal:
        raise NotAllowed(person, "upload an image", refusal)


def name_for(filename: str, data: bytes, field: str = "upload") -> tuple[str, ImageInfo]:
    """The name an upload will have ("images/<safe name>") and what it is; Invalid if it is not
    a real image."""
    info = inspect(data, field)
    return f"{FOLDER}/{upload_name(filename, data, info)}", info


def save(ws: Workspace, name: str, data: bytes) -> Path:
    """Write a checked upload to content/images/ under its generated name: whole or not at all,
    never over another file (the name holds a hash of the content, so one there is this one)."""
    root = folder(ws)
    target = (root.parent / name).resolve()
    if target.parent != root:
        raise Invalid("an upload is saved only in content/images/", field="upload")
    if target.exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.link(temporary, target)  # fails rather than replace a file that appeared meanwhile
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
    return target


def upload(ws: Workspace, actor: Actor, now: datetime, filename: str, data: bytes,
           channels: Iterable[str] = (), responsibility: str = RESPONSIBILITY) -> str:
    """Check an uploaded file (a real image that every chosen channel takes, converted to JPEG
    when one takes no other or not its format) and save it to the library; its name
    ("images/..."). For the people who may write the work of `responsibility`. Refused whole
    (NotAllowed, Invalid) before anything is written."""
    may_upload(ws, actor.person, responsibility)
    name, info = name_for(filename, data)
    channels = list(channels)
    sent_as = info.format
    if _needs_jpeg(ws, info, channels):
        # a chosen platform takes only JPEG (Instagram), or not this format (WebP on
        # Facebook): the picture is converted once, here, and every channel gets the JPEG
        data = as_jpeg(data)
        name, info = name_for(filename, data)
    unfit = fit(ws, info, channels)
    if unfit:
        raise Invalid("; ".join(unfit), field="upload")
    save(ws, name, data)
    ws.ledger.audit.add(now, "image-upload", actor, details={
        "image": name, "format": info.format, "bytes": info.size,
        "width": info.width, "height": info.height,
        **({"converted_from": sent_as} if sent_as != info.format else {})})
    return name


def _needs_jpeg(ws: Workspace, info: ImageInfo, channels: list[str]) -> bool:
    settings = ws.config.settings.channels
    return any(takes_jpeg_not(info, settings[name].kind) for name in channels
               if name in settings)
