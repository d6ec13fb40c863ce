"""Reading and writing user files without losing a byte: encoding, BOM and newlines are kept,
and writes are atomic (a temporary file in the same directory, then a rename)."""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import stat
import tokenize
from dataclasses import dataclass
from pathlib import Path


class SourceError(Exception):
    """A file cannot be read or written; the message is one line for the user."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    bom: bool


def decode_python(data: bytes) -> Decoded:
    """Decode like Python does: a BOM or a coding cookie, else UTF-8."""
    if b"\x00" in data:
        raise SourceError("binary file (contains NUL bytes)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "invalid or missing encoding declaration" in str(error):
            raise SourceError("not UTF-8 and has no coding cookie") from None
        raise SourceError(f"bad coding cookie: {error}") from None
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8):] if bom else data
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    try:
        return Decoded(body.decode(encoding), encoding, bom)
    except (UnicodeDecodeError, LookupError) as error:
        raise SourceError(f"cannot decode as {encoding}: {error.__class__.__name__}") from None


def encode_python(text: str, decoded: Decoded) -> bytes:
    """Encode in the file's own encoding (a latin-1 file stays latin-1, a BOM stays)."""
    try:
        data = text.encode(decoded.encoding)
    except UnicodeEncodeError as error:
        raise SourceError(
            f"the migration cannot be written as {decoded.encoding}: {error.reason}"
        ) from None
    return codecs.BOM_UTF8 + data if decoded.bom else data


def read_bytes(path: Path) -> bytes:
    """The file's bytes. Only regular files are read: a FIFO or a device named ``.py`` would
    block the run forever or never end."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise SourceError("is a directory")
        if not stat.S_ISREG(mode):
            raise SourceError("not a regular file")
        return path.read_bytes()
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never a part;
    the file's permission bits are kept. On failure the original is untouched.

    A symlink is written through (its target changes, the link stays a link). A file without
    write permission is refused: a rename could replace it, but its owner said "do not change".
    """
    target = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
        if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(
            target, os.W_OK
        ):
            raise SourceError("cannot write: the file is read-only")
        import tempfile  # with shutil and the compression modules: only when writing

        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tnx2nxdi"
        )
    except OSError as error:
        raise SourceError(f"cannot write: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise SourceError(f"cannot write: {error.strerror or error}") from None
        raise
