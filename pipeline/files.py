"""Files a person names: where they really are, and whether they are what they claim.

A path written in a content file or config.toml is resolved inside its folder, symbolic links
followed, so that '../', an absolute path or a link can never make the pipeline read (and
publish) a file from elsewhere. Every file read is first checked to be a regular file of a sane
size: a name can point at a device or a pipe that never ends.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import WstError
from pipeline.problems import display_path

MB = 1_000_000


class FileRefused(WstError):
    """A path a person wrote that cannot be used; the message says why and the fix."""


def inside(folder: Path, written: str) -> Path:
    """`written` (relative to `folder`, or absolute) as the real file it names, which must be
    inside `folder` once every symbolic link is followed; FileRefused if it is not."""
    shown = display_path(folder)
    shown = "the project folder" if shown == "." else f"{shown}/"
    if not written.strip():
        raise FileRefused("is empty; write the file's path")
    path = Path(written)
    if ".." in path.parts:
        raise FileRefused(f"goes out of {shown} with '..'; write the path from {shown}")
    real = (folder / path).resolve()
    base = folder.resolve()
    if not real.is_relative_to(base):
        if path.is_absolute():
            raise FileRefused(f"is outside {shown}; put the file in {shown} and write its path "
                              f"from there")
        raise FileRefused(f"is a link to a file outside {shown}; copy the file into {shown} "
                          f"instead of linking to it")
    return real


def regular(path: Path, most: int, what: str = "file") -> int:
    """The size of `path`, a regular file of at most `most` bytes; FileRefused if it is missing,
    not a regular file (a folder, a device, a pipe), or larger."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise FileRefused(f"not found; add the {what} or fix the path") from None
    except OSError as exc:
        raise FileRefused(f"cannot be read ({exc.strerror}); fix its permissions or the path") from None
    if path.is_dir():
        raise FileRefused(f"is a folder, not a {what}; name the {what} inside it")
    if not path.is_file():
        raise FileRefused(f"is not a regular file (a device or a pipe?); name a {what}")
    if st.st_size > most:
        raise FileRefused(f"is {size(st.st_size)}; a {what} may be at most {size(most)}: make it "
                          f"smaller or split it")
    return st.st_size


def size(n: int) -> str:
    """A size in bytes as a person reads it: 2.1 MB, 100 KB."""
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / 1000:.0f} KB"
