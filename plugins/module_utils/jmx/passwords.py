# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JDK's JMX password file with hashed passwords, as the JVM itself writes it.

``com.sun.jmx.remote.security.HashedPasswordManager`` (JDK 11+) reads one entry a line: ``<user> <password>``
in clear, or ``<user> <base64 salt> <base64 hash> [<algorithm>]`` where the hash is
``algorithm(salt || UTF-8 password)``, a 64-byte random salt and SHA3-512 by default. With
``password.toHashes=true`` (the default) a writable file holding a clear password is rewritten in that form
at the next login. So the collection writes the hashed form itself: the JVM never rewrites the file, and a
rerun keeps an entry whose stored hash the wanted password still matches - the file stays as it is and the
play reports no change, without the clear password ever reaching the host's disk.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

DEFAULT_ALGORITHM = "SHA3-512"
SALT_BYTES = 64
# What the JDK puts first when it hashes a file; kept so a file the JVM would rewrite looks the same.
HEADER = ("# The passwords in this file are hashed.\n"
          "# In order to change the password for a role, replace the hashed password entry\n"
          "# with a clear text password or a new hashed password. If the new password is in clear,\n"
          "# it will be replaced with its hash when a new login attempt is made.\n\n")
# Java MessageDigest names -> hashlib names (the ones a JDK password file may name).
_ALGORITHMS = {"SHA3-512": "sha3_512", "SHA3-384": "sha3_384", "SHA3-256": "sha3_256",
               "SHA-512": "sha512", "SHA-384": "sha384", "SHA-256": "sha256"}


class Entry:
    """One user of a password file: hashed (salt, digest, algorithm) or clear."""

    def __init__(self, user: str, salt: Optional[bytes] = None, digest: Optional[bytes] = None,
                 algorithm: str = DEFAULT_ALGORITHM, clear: Optional[str] = None, line: str = ""):
        self.user = user
        self.salt = salt
        self.digest = digest
        self.algorithm = algorithm
        self.clear = clear
        self.line = line

    def matches(self, password: str) -> bool:
        """Whether `password` is this entry's password (the JDK's own check for a hashed entry)."""
        if self.clear is not None:
            return hmac.compare_digest(self.clear.encode("utf-8"), password.encode("utf-8"))
        name = _ALGORITHMS.get(self.algorithm)
        if name is None or self.salt is None or self.digest is None:
            return False
        return hmac.compare_digest(_digest(name, self.salt, password), self.digest)


def _digest(name: str, salt: bytes, password: str) -> bytes:
    h = hashlib.new(name)
    h.update(salt)
    h.update(password.encode("utf-8"))
    return h.digest()


def hashed_line(user: str, password: str, salt: Optional[bytes] = None) -> str:
    """``<user> <b64 salt> <b64 SHA3-512(salt || password)> SHA3-512``, as the JDK writes it."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = _digest(_ALGORITHMS[DEFAULT_ALGORITHM], salt, password)
    return "%s %s %s %s" % (user, base64.b64encode(salt).decode("ascii"),
                            base64.b64encode(digest).decode("ascii"), DEFAULT_ALGORITHM)


def parse(text: str) -> Dict[str, Entry]:
    """The entries of a password file by user; as the JDK does, the last entry of a user wins and a line
    that is neither 2, 3 nor 4 fields is ignored."""
    entries: Dict[str, Entry] = {}
    for line in text.splitlines():
        if line.strip().startswith("#"):
            continue
        tokens = line.split()
        if len(tokens) == 2:
            entries[tokens[0]] = Entry(tokens[0], clear=tokens[1], line=line)
        elif len(tokens) in (3, 4):
            try:
                salt = base64.b64decode(tokens[1], validate=True)
                digest = base64.b64decode(tokens[2], validate=True)
            except (binascii.Error, ValueError):
                salt = digest = None
            entries[tokens[0]] = Entry(tokens[0], salt, digest, tokens[3] if len(tokens) == 4 else DEFAULT_ALGORITHM,
                                       line=line)
    return entries


def render(users: Sequence[Tuple[str, str]], existing: Optional[str]) -> Tuple[str, List[str]]:
    """The password file for `users` ((name, clear password), in order) and the users whose entry is new.

    An entry of `existing` whose hash the wanted password matches is kept as it is (same salt), so the file
    only changes when a user or a password does; a clear entry is always replaced by its hash.
    """
    old = parse(existing or "")
    lines: List[str] = []
    renewed: List[str] = []
    for name, password in users:
        entry = old.get(name)
        if entry is not None and entry.clear is None and entry.matches(password):
            lines.append(entry.line.strip())
        else:
            lines.append(hashed_line(name, password))
            renewed.append(name)
    return HEADER + "".join(line + "\n" for line in lines), renewed


def users_of(text: str) -> List[str]:
    """The user names a password file holds (for a diff that shows no secret)."""
    return sorted(parse(text))


def verify_all(text: str, users: Mapping[str, str]) -> List[str]:
    """The users of `users` whose password the file does not accept (empty: every one logs in)."""
    entries = parse(text)
    return [name for name, password in users.items()
            if name not in entries or not entries[name].matches(password)]


class MissingPassword(ValueError):
    """A user without a password of its own and none generated for it."""


def with_generated(users: Sequence[Mapping[str, object]], generated: Sequence[Mapping[str, object]]) -> List[Dict[str, object]]:
    """The users, each with its password: its own, else the one generated for it on the credentials host.

    ``generated`` is the registered loop of the role's store_password task (results with ``item.name`` and
    ``password``; skipped items have none). Data in, data out, so no template renders a list as text."""
    made: Dict[str, object] = {}
    for result in generated:
        item = result.get("item")
        if isinstance(item, Mapping) and "password" in result:
            made[str(item.get("name"))] = result["password"]
    out: List[Dict[str, object]] = []
    for user in users:
        entry = dict(user)
        if "password" not in entry:  # as the generating loop selects them (rejectattr('password', 'defined'))
            name = str(entry.get("name"))
            if name not in made:
                raise MissingPassword("kafkasec_jmx_users: user %r has no password and none was generated for it "
                                      "(is kafkasec_jmx_credentials_host in the play?)" % name)
            entry["password"] = made[name]
        out.append(entry)
    return out
