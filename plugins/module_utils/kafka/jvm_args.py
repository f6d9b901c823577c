# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Java launcher argument files (``java @file``) and systemd environment files.

Plain Python, no Ansible imports.

An argument file (JDK 9 and later) lets the ``java`` launcher read options from a
file: ``/proc/<pid>/cmdline`` (what ``ps`` shows) then holds ``@/path/file``, not the
options, so system properties such as ``-Djavax.net.ssl.keyStorePassword=...`` stay off
the process list. The launcher splits the file at white space; inside double quotes
white space is kept and a backslash escapes the next character (``\\n``, ``\\r``,
``\\t``, ``\\f`` are control characters, any other ``\\c`` is ``c``).

An environment file is the ``EnvironmentFile=`` of a systemd unit; the values written
here are also read the same way by a POSIX shell (``set -a; . file``), because they
are restricted to characters that neither treats specially inside double quotes.
"""

from __future__ import annotations

import re

__all__ = ["JvmArgsError", "argfile_quote", "env_quote"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f", "\\": "\\\\", '"': '\\"'}
# Inside double quotes: no $, `, \, " (shell) and no %, \ (systemd specifiers and escapes).
_ENV_SAFE = re.compile(r"\A[A-Za-z0-9 @=:,./_+\-]*\Z")


class JvmArgsError(ValueError):
    """A value that cannot be written safely; the message names what it is."""


def argfile_quote(value: str, what: str = "value") -> str:
    """``value`` as one double-quoted argument-file token that the launcher reads back exactly."""
    if not isinstance(value, str):
        raise JvmArgsError("%s must be a string" % what)
    out = ['"']
    for char in value:
        code = ord(char)
        if char in _NAMED:
            out.append(_NAMED[char])
        elif code < 0x20 or code == 0x7F or code > 0x7E:
            # The launcher reads the file in the platform encoding and has no \u escape:
            # only printable ASCII (and the named escapes) round-trips everywhere.
            raise JvmArgsError("%s contains %r, which a Java argument file cannot carry portably; "
                               "use printable ASCII" % (what, char))
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def env_quote(value: str, what: str = "value") -> str:
    """``value`` double-quoted for a systemd ``EnvironmentFile`` line (``NAME="value"``).

    Only characters that systemd and a POSIX shell both take literally inside double
    quotes are accepted: letters, digits, space and ``@=:,./_+-``.
    """
    if not isinstance(value, str):
        raise JvmArgsError("%s must be a string" % what)
    if not _ENV_SAFE.match(value):
        bad = "".join(sorted(set(c for c in value if not _ENV_SAFE.match(c))))
        raise JvmArgsError("%s holds %r, which systemd or a shell would not read literally; "
                           "use letters, digits, space and @=:,./_+-" % (what, bad))
    return '"%s"' % value
