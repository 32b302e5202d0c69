"""Deterministic packaging, Lambda's CodeSha256, and unpacking that refuses to leave its folder."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from pinflow.functions import package


def _write_sources(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "app.py").write_text("def handler(event, context):\n    return event\n")
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "helpers.py").write_text("VALUE = 1\n")
    (root / "bin").mkdir()
    (root / "bin" / "tool.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(root / "bin" / "tool.sh", 0o755)


def test_same_sources_with_other_times_and_modes_give_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _write_sources(first)
    _write_sources(second)
    for index, path in enumerate(sorted(second.rglob("*"))):
        os.utime(path, (1_000_000_000 + index, 1_500_000_000 + index * 7))
    os.chmod(second / "app.py", 0o600)  # read/write bits do not count, only the owner's x bit
    # Byte-code caches are left out, so an import between two packagings changes nothing.
    (second / "__pycache__").mkdir()
    (second / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\x00compiled")
    (second / "pkg" / "stale.pyc").write_bytes(b"\x00compiled")

    one, two = package.package_folder(first), package.package_folder(second)

    assert one == two
    assert package.sha256_hex(one) == package.sha256_hex(two)


def test_a_change_of_content_changes_the_digest(tmp_path: Path) -> None:
    _write_sources(tmp_path)
    before = package.sha256_hex(package.package_folder(tmp_path))
    (tmp_path / "pkg" / "helpers.py").write_text("VALUE = 2\n")
    assert package.sha256_hex(package.package_folder(tmp_path)) != before


def test_entries_are_sorted_with_fixed_times_and_modes(tmp_path: Path) -> None:
    _write_sources(tmp_path)
    archive = zipfile.ZipFile(io.BytesIO(package.package_folder(tmp_path)))
    names = [info.filename for info in archive.infolist()]
    assert names == ["app.py", "bin/tool.sh", "pkg/__init__.py", "pkg/helpers.py"]
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
    modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
    assert modes == {"app.py": 0o644, "bin/tool.sh": 0o755, "pkg/__init__.py": 0o644, "pkg/helpers.py": 0o644}


def test_digests_in_hex_and_in_lambdas_base64() -> None:
    # SHA-256 of the empty string, in both spellings.
    assert package.sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert package.sha256_b64(b"") == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    data = b"some code"
    assert base64.b64decode(package.sha256_b64(data)) == hashlib.sha256(data).digest()


def test_normalize_sha256_accepts_both_spellings() -> None:
    hex_digest = package.sha256_hex(b"x")
    assert package.normalize_sha256(hex_digest.upper()) == hex_digest
    assert package.normalize_sha256(package.sha256_b64(b"x")) == hex_digest
    with pytest.raises(ValueError):
        package.normalize_sha256("not-a-digest")


def test_unpack_restores_the_files_and_the_execute_bit(tmp_path: Path) -> None:
    source = tmp_path / "src"
    _write_sources(source)
    dest = tmp_path / "out"
    package.unpack(package.package_folder(source), dest)
    assert (dest / "app.py").read_text() == (source / "app.py").read_text()
    assert (dest / "pkg" / "helpers.py").read_text() == "VALUE = 1\n"
    assert os.stat(dest / "bin" / "tool.sh").st_mode & stat.S_IXUSR
    assert not os.stat(dest / "app.py").st_mode & stat.S_IXUSR


def _zip_with(name: str, data: bytes = b"owned") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("good.py", b"ok")
        archive.writestr(zipfile.ZipInfo(name), data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name",
    ["../evil.py", "a/../../evil.py", "/tmp/evil.py", "C:/evil.py", "..\\evil.py", "a/..", "sub/../../../x"],
)
def test_unpack_refuses_paths_that_leave_the_folder(tmp_path: Path, name: str) -> None:
    dest = tmp_path / "deep" / "dest"
    with pytest.raises(package.UnsafeArchiveError):
        package.unpack(_zip_with(name), dest)
    # Checked before anything is written: not even the good entry is there.
    assert not dest.exists() or not any(dest.iterdir())
    assert not (tmp_path / "deep" / "evil.py").exists()
    assert not (tmp_path / "evil.py").exists()


def test_unpack_refuses_an_archive_larger_than_the_limit(tmp_path: Path) -> None:
    with pytest.raises(package.UnsafeArchiveError):
        package.unpack(_zip_with("big.bin", b"\0" * 10_000), tmp_path / "dest", max_bytes=5_000)


def test_unpack_will_not_follow_a_link_already_in_the_folder(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (dest / "link").symlink_to(outside)
    with pytest.raises(package.UnsafeArchiveError):
        package.unpack(_zip_with("link/evil.py"), dest)
    assert not (outside / "evil.py").exists()


def test_package_folder_needs_a_folder(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        package.package_folder(tmp_path / "missing")


def _zip_of(entries: list[tuple[str, bytes, int]]) -> bytes:
    """An archive whose entries carry unix modes (a link is S_IFLNK with its target as data)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


LINK_THEN_FILE_IN_IT = [("link", b"/etc", stat.S_IFLNK | 0o777), ("app.py", b"x = 1", stat.S_IFREG | 0o644),
                        ("link/x", b"y", stat.S_IFREG | 0o644)]


def test_a_name_that_is_both_a_file_and_a_folder_is_refused(tmp_path: Path) -> None:
    # A link is written as a file, so a file "inside" it could never be unpacked.
    with pytest.raises(package.UnsafeArchiveError, match="needs it as a folder"):
        package.unpack(_zip_of(LINK_THEN_FILE_IN_IT), tmp_path / "dest")
    assert not (tmp_path / "dest").exists()
    folder_then_file = [("a/b.py", b"", stat.S_IFREG | 0o644), ("a", b"", stat.S_IFREG | 0o644)]
    with pytest.raises(package.UnsafeArchiveError):
        package.check(_zip_of(folder_then_file))


def test_check_refuses_what_unpack_refuses_and_writes_nothing(tmp_path: Path) -> None:
    for name in ("../evil.py", "/tmp/evil.py", "a/../../evil.py"):
        with pytest.raises(package.UnsafeArchiveError):
            package.check(_zip_with(name))
    with pytest.raises(package.ArchiveTooLargeError):
        package.check(_zip_with("big.bin", b"\0" * 10_000), max_bytes=5_000)
    with pytest.raises(zipfile.BadZipFile):
        package.check(b"not a zip")
    source = tmp_path / "src"
    _write_sources(source)
    package.check(package.package_folder(source))
    assert not any(tmp_path.glob("**/evil.py"))
    # A damaged entry only shows when its data is read (its CRC no longer matches).
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("app.py", b"print('hello')\n")
    corrupted = stored.getvalue().replace(b"print('hello')", b"print('HELLO')", 1)
    with pytest.raises(zipfile.BadZipFile):
        package.check(corrupted)


def test_seal_makes_the_unpacked_code_read_only(tmp_path: Path) -> None:
    source = tmp_path / "src"
    _write_sources(source)
    dest = tmp_path / "out"
    package.unpack(package.package_folder(source), dest)
    package.seal(dest)
    modes = {path.relative_to(dest).as_posix(): stat.S_IMODE(path.stat().st_mode)
             for path in [dest, *dest.rglob("*")]}
    assert modes == {".": 0o555, "app.py": 0o444, "pkg": 0o555, "pkg/__init__.py": 0o444,
                     "pkg/helpers.py": 0o444, "bin": 0o555, "bin/tool.sh": 0o555}
    package.remove(dest)
    assert not dest.exists()
    package.remove(dest)  # removing what is not there is no error
