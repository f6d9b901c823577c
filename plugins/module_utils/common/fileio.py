# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and atomically writing the files the collection manages.

Plain Python, no Ansible imports: every write goes to a temporary file created
0600 in the target's directory, is fsynced, then renamed over the target, so a
reader (or a crash) sees either the old file or the new one, never a mix.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from typing import List, Optional

# A temporary file this long untouched is a leftover of a killed write, not one being written.
STALE_TEMP_SECONDS = 5.0


class FileError(Exception):
    """A file could not be read or written; the message names the file."""


def read_bytes(path: str, what: str) -> bytes:
    """Return the content of path; raise FileError naming `what` and the path."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise FileError("%s %s does not exist" % (what, path)) from None
    except IsADirectoryError:
        raise FileError("%s %s is a directory, not a file" % (what, path)) from None
    except PermissionError:
        raise FileError("%s %s is not readable by this user (permission denied)" % (what, path)) from None
    except OSError as exc:
        raise FileError("%s %s cannot be read: %s" % (what, path, exc.strerror)) from None


def read_optional(path: str | None, what: str) -> bytes | None:
    """Like read_bytes, but a missing file (or no path) gives None."""
    if not path or not os.path.lexists(path):
        return None
    return read_bytes(path, what)


def check_parent_dir(path: str, what: str) -> None:
    """Fail before any work when the directory that should hold `path` is missing."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileError("%s %s: directory %s does not exist" % (what, path, parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise FileError("%s %s: directory %s is not writable by this user" % (what, path, parent))


def atomic_write(path: str, data: bytes, like: Optional[os.stat_result] = None) -> None:
    """Write data to path through a 0600 temporary file and a rename.

    The temporary file lives in the same directory (same file system, so the
    rename is atomic).  With `like` (the stat of the file being replaced) the new
    file gets that file's mode, owner and group before the rename, so readers such
    as the Kafka service user keep their access; without it the new file is 0600
    until the caller applies the wanted attributes, so a key is never readable by
    others, not even for a moment.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if like is not None:
            _copy_owner_and_mode(tmp_path, like)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise
    _fsync_directory(directory)
    remove_stale_temp_files(path)


def remove_stale_temp_files(path: str, min_age: float = STALE_TEMP_SECONDS) -> List[str]:
    """Remove the temporary files an earlier atomic_write of path left behind (a write killed
    before its rename, e.g. SIGKILL): ``.<name>.<random>.tmp`` in the same directory, owned by this
    user and untouched for min_age seconds. They may hold a key or a store. Returns their paths."""
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(r"^\.%s\.[A-Za-z0-9_]{8}\.tmp$" % re.escape(os.path.basename(path)))
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.match(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or now - st.st_mtime < min_age:
                continue
            os.unlink(entry.path)
            removed.append(entry.path)
        except OSError:
            continue
    return removed


def _copy_owner_and_mode(path: str, like: os.stat_result) -> None:
    if (like.st_uid, like.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.chown(path, like.st_uid, like.st_gid)
        except PermissionError:
            try:  # an unprivileged user may still hand the file to one of its groups
                os.chown(path, -1, like.st_gid)
            except PermissionError:
                pass
    os.chmod(path, stat.S_IMODE(like.st_mode))


def stat_or_none(path: str) -> Optional[os.stat_result]:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable; some file systems refuse O_RDONLY fsync on dirs.
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
