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
    the file's permission bits and, where the OS allows, its owner and group are kept. On failure
    the original is untouched.

    A symlink is written through (its target changes, the link stays a link). A file with
    several hard links, or whose owner this process cannot give the new file, is rewritten in
    place instead of renamed over, so its links and its owner stay; that write is not atomic,
    but Ctrl-C cannot cut it short. A file without write permission is refused: a rename could
    replace it, but its owner said "do not change".
    """
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
        mode = stat.S_IMODE(info.st_mode)
        if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(
            target, os.W_OK
        ):
            raise SourceError("cannot write: the file is read-only")
    except OSError as error:
        raise SourceError(f"cannot write: {error.strerror or error}") from None
    if info.st_nlink > 1:
        _write_in_place(target, data)
        return
    import tempfile  # with shutil and the compression modules: only when writing

    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tnx2nxdi"
        )
    except PermissionError as error:
        raise SourceError(
            f"cannot write: its directory {target.parent} is not writable ({error.strerror}); "
            "tnx2nxdi writes a temporary file next to the file and renames it over the file"
        ) from None
    except OSError as error:
        raise SourceError(f"cannot write: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        if not _same_owner(temporary, info):
            os.unlink(temporary)
            _write_in_place(target, data)  # the owner stays with the file's own inode
            return
        os.replace(temporary, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise SourceError(f"cannot write: {error.strerror or error}") from None
        raise


def _same_owner(temporary: str, info: os.stat_result) -> bool:
    """Give the new file the old one's owner and group; False when the OS does not allow it."""
    if not hasattr(os, "chown"):
        return True  # Windows: no owner to keep this way
    new = os.stat(temporary)
    if (new.st_uid, new.st_gid) == (info.st_uid, info.st_gid):
        return True
    try:
        os.chown(temporary, info.st_uid, info.st_gid)
    except OSError:
        return False
    return True


def _write_in_place(target: Path, data: bytes) -> None:
    """Overwrite the file's own inode (hard links and owner stay), with Ctrl-C held off until
    the file is whole."""
    import signal  # only here: a run that writes nothing in place never needs them
    import threading

    blocked = hasattr(signal, "pthread_sigmask") and (
        threading.current_thread() is threading.main_thread())
    if blocked:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        with open(target, "r+b") as stream:
            stream.write(data)
            stream.truncate()
            stream.flush()
            os.fsync(stream.fileno())
    except OSError as error:
        raise SourceError(f"cannot write: {error.strerror or error}") from None
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
