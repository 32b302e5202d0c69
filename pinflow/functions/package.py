"""Deterministic zip packaging of a function's folder, its digests, and safe, read-only unpacking."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

# The earliest time a zip entry can hold; every entry gets it so file times never change the bytes.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
EXEC_MODE = 0o755
# What `seal` leaves: nothing in unpacked code is writable.
READ_ONLY_FILE_MODE = 0o444
READ_ONLY_EXEC_MODE = 0o555
READ_ONLY_DIR_MODE = 0o555
# Lambda refuses a function whose unzipped code is larger than this.
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024

_SKIPPED_DIRS = frozenset({"__pycache__"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
_DRIVE = re.compile(r"[A-Za-z]:")


class UnsafeArchiveError(ValueError):
    """A zip that cannot be unpacked safely: a path leaving the target folder, or too much data."""


class ArchiveTooLargeError(UnsafeArchiveError):
    """A zip whose content is larger than the limit once unpacked."""


def package_folder(path: str | os.PathLike[str]) -> bytes:
    """Zip a folder so that the same sources always give the same bytes.

    Entries are sorted by their POSIX path, carry a fixed 1980-01-01 timestamp and a fixed mode
    (0755 when the owner may execute the file, else 0644), and `__pycache__` folders and
    `.pyc`/`.pyo` files are left out. Symbolic links to files are stored as the file's content;
    linked folders are not followed.

    Args:
        path: the folder to package.

    Returns:
        The zip archive's bytes.

    Raises:
        NotADirectoryError: `path` is not a folder.
    """
    root = Path(path)
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in _collect(root):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so that external_attr is read as a mode
            mode = EXEC_MODE if os.stat(source).st_mode & stat.S_IXUSR else FILE_MODE
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, source.read_bytes(), compresslevel=6)
    return buffer.getvalue()


def _collect(root: Path) -> list[tuple[str, Path]]:
    """The files to package, as (archive name, path) sorted by archive name."""
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        # Pruning in place stops os.walk from descending into skipped folders.
        dirnames[:] = [d for d in dirnames if d not in _SKIPPED_DIRS]
        for filename in filenames:
            if filename.endswith(_SKIPPED_SUFFIXES):
                continue
            full = Path(dirpath, filename)
            if not full.is_file():  # sockets, fifos, dangling links
                continue
            found.append((full.relative_to(root).as_posix(), full))
    found.sort(key=lambda item: item[0])
    return found


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of `data` as lowercase hex (the key a code blob is stored under)."""
    return hashlib.sha256(data).hexdigest()


def sha256_b64(data: bytes) -> str:
    """The SHA-256 digest of `data` in base64, as Lambda reports it in `CodeSha256`."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def normalize_sha256(value: str) -> str:
    """Turn a SHA-256 given as hex or as Lambda's base64 into lowercase hex.

    Raises:
        ValueError: `value` is neither form.
    """
    lowered = value.lower()
    if len(lowered) == 64 and all(c in "0123456789abcdef" for c in lowered):
        return lowered
    try:
        digest = base64.b64decode(value, validate=True)
    except ValueError:
        digest = b""
    if len(digest) != 32:
        raise ValueError(f"not a SHA-256 digest in hex or base64: {value!r}")
    return digest.hex()


def check(zip_bytes: bytes, *, max_bytes: int = MAX_UNZIPPED_BYTES) -> None:
    """Check that `unpack` would take this archive, without writing anything.

    Every entry is read, so what only shows when data is decompressed (a damaged entry, one larger
    than its header says) is found too.

    Raises:
        ArchiveTooLargeError: more than `max_bytes` of content.
        UnsafeArchiveError: a name `unpack` refuses (see there).
        zipfile.BadZipFile: `zip_bytes` is not a zip archive, or an entry is damaged.
    """
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        for info, _ in _plan(archive, max_bytes):
            if not info.is_dir():
                with archive.open(info) as source:
                    _copy(info, source, None)


def unpack(
    zip_bytes: bytes, dest_dir: str | os.PathLike[str], *, max_bytes: int = MAX_UNZIPPED_BYTES
) -> None:
    """Unpack a zip into `dest_dir`, refusing any entry that would land outside it.

    Every name is checked before anything is written, so a refused archive leaves nothing behind
    that it did not already hold. Symbolic links in the archive are written as regular files.

    Args:
        zip_bytes: the archive.
        dest_dir: the folder to unpack into; created when absent.
        max_bytes: the most uncompressed data accepted (Lambda's 250 MiB by default).

    Raises:
        ArchiveTooLargeError: more than `max_bytes` of content.
        UnsafeArchiveError: an absolute path, a `..` component, a drive or backslash in a name, or
            a name that is both a file and a folder (as a link stored as a file, then a file "in" it).
        zipfile.BadZipFile: `zip_bytes` is not a zip archive, or an entry is damaged.
    """
    dest = Path(dest_dir)
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        plan = _plan(archive, max_bytes)
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        for info, relative in plan:
            target = root.joinpath(*relative.parts)
            # A name that survived the checks can still meet a link already in dest: check again.
            if not target.resolve().is_relative_to(root):
                raise UnsafeArchiveError(f"entry {info.filename!r} leaves the destination folder")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, open(target, "wb") as sink:
                _copy(info, source, sink)
            mode = (info.external_attr >> 16) & 0o777
            os.chmod(target, EXEC_MODE if mode & stat.S_IXUSR else FILE_MODE)


def seal(folder: str | os.PathLike[str]) -> None:
    """Make an unpacked folder read-only: files 0444 (0555 when executable), folders 0555, itself too.

    Unpacked code is shared by every version with the same SHA-256, so no handler may change it.
    """
    root = Path(folder)
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            path = Path(dirpath, name)
            if path.is_symlink():
                continue
            executable = path.stat().st_mode & stat.S_IXUSR
            os.chmod(path, READ_ONLY_EXEC_MODE if executable else READ_ONLY_FILE_MODE)
        for name in dirnames:
            path = Path(dirpath, name)
            if not path.is_symlink():
                os.chmod(path, READ_ONLY_DIR_MODE)
    os.chmod(root, READ_ONLY_DIR_MODE)


def archive_digest(zip_bytes: bytes, *, max_bytes: int = MAX_UNZIPPED_BYTES) -> str:
    """The `tree_digest` that `unpack` followed by `seal` gives for this archive, computed without writing.

    Raises:
        as `unpack`.
    """
    return layered_digest([zip_bytes], max_bytes=max_bytes)


def layered_digest(archives: list[bytes], *, max_bytes: int = MAX_UNZIPPED_BYTES) -> str:
    """The `tree_digest` of a folder into which `archives` are unpacked in order (a later one's files
    replacing an earlier one's, as Lambda merges layers into /opt), then sealed.

    Raises:
        as `unpack`.
    """
    entries: dict[str, str] = {".": _dir_entry(".")}
    for zip_bytes in archives:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            for info, relative in _plan(archive, max_bytes):
                for parent in relative.parents:
                    if parent.parts:
                        entries[parent.as_posix()] = _dir_entry(parent.as_posix())
                name = relative.as_posix()
                if info.is_dir():
                    entries[name] = _dir_entry(name)
                    continue
                digest = hashlib.sha256()
                with archive.open(info) as source:
                    _copy(info, source, _Hashing(digest))
                executable = ((info.external_attr >> 16) & 0o777) & stat.S_IXUSR
                entries[name] = _file_entry(name, READ_ONLY_EXEC_MODE if executable else READ_ONLY_FILE_MODE,
                                            digest.hexdigest())
    return _combine(entries)


def tree_digest(folder: str | os.PathLike[str]) -> str:
    """A SHA-256 over everything in an unpacked folder: each name, type, permission bits and content.

    Two folders have the same digest exactly when they hold the same names with the same contents and
    the same read-only modes; a link, a device or a writable file anywhere changes it.
    """
    root = Path(folder)
    entries: dict[str, str] = {".": _dir_entry(".", stat.S_IMODE(os.lstat(root).st_mode))}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath, name)
            relative = path.relative_to(root).as_posix()
            info = os.lstat(path)
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISDIR(info.st_mode):
                entries[relative] = _dir_entry(relative, mode)
            elif stat.S_ISREG(info.st_mode):
                entries[relative] = _file_entry(relative, mode, _file_sha256(path))
            else:
                entries[relative] = f"other {relative} {info.st_mode:o}"
    return _combine(entries)


def _dir_entry(name: str, mode: int = READ_ONLY_DIR_MODE) -> str:
    return f"dir {name} {mode:o}"


def _file_entry(name: str, mode: int, sha256: str) -> str:
    return f"file {name} {mode:o} {sha256}"


def _combine(entries: dict[str, str]) -> str:
    # repr() quotes each entry, so that a name holding a newline cannot pass for two entries.
    return hashlib.sha256("\n".join(repr(entries[name]) for name in sorted(entries)).encode()).hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _Hashing:
    """A write-only sink that feeds a hash (for `_copy`)."""

    def __init__(self, digest: hashlib._Hash) -> None:
        self._digest = digest

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return len(data)


def remove(folder: str | os.PathLike[str]) -> None:
    """Delete an unpacked folder, sealed or not (a read-only folder's entries cannot be unlinked)."""
    root = Path(folder)
    if not root.exists():
        return
    for dirpath, dirnames, _ in os.walk(root):
        for name in dirnames:
            path = Path(dirpath, name)
            if not path.is_symlink():
                os.chmod(path, stat.S_IRWXU)
    os.chmod(root, stat.S_IRWXU)
    shutil.rmtree(root, ignore_errors=True)


def _plan(archive: zipfile.ZipFile, max_bytes: int) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Each entry with the relative path it unpacks to, once every name and the total size passed."""
    plan: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    files: dict[PurePosixPath, str] = {}
    folders: dict[PurePosixPath, str] = {}
    total = 0
    for info in archive.infolist():
        relative = _safe_name(info.filename)
        plan.append((info, relative))
        total += info.file_size
        if total > max_bytes:
            raise ArchiveTooLargeError(f"the archive unpacks to more than {max_bytes} bytes")
        for parent in relative.parents:
            if parent.parts:
                folders.setdefault(parent, info.filename)
        if info.is_dir():
            folders.setdefault(relative, info.filename)
        else:
            files.setdefault(relative, info.filename)
    for path, name in files.items():
        if path in folders:
            raise UnsafeArchiveError(f"entry {name!r} is a file, and {folders[path]!r} needs it as a folder")
    return plan


def _copy(info: zipfile.ZipInfo, source: IO[bytes], sink: IO[bytes] | _Hashing | None) -> None:
    """Copy one entry's data (to nowhere when `sink` is None), refusing more than its header declares."""
    written = 0
    while chunk := source.read(1 << 16):
        written += len(chunk)
        if written > info.file_size:  # a header that lies about the size
            raise UnsafeArchiveError(f"entry {info.filename!r} is larger than it declares")
        if sink is not None:
            sink.write(chunk)


def _safe_name(name: str) -> PurePosixPath:
    """The relative path an entry name stands for, or UnsafeArchiveError."""
    if "\\" in name or "\x00" in name:
        raise UnsafeArchiveError(f"entry {name!r} has a backslash or NUL in its name")
    path = PurePosixPath(name)
    if path.is_absolute() or _DRIVE.match(name):
        raise UnsafeArchiveError(f"entry {name!r} has an absolute path")
    if ".." in path.parts:
        raise UnsafeArchiveError(f"entry {name!r} has a '..' component")
    if not path.parts:
        raise UnsafeArchiveError(f"entry {name!r} has an empty name")
    return path
