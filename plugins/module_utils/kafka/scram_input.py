# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SCRAM users an operator asks for, checked: names, mechanisms, iterations, passwords.

Plain, typed Python with no Ansible and no Kafka client imports, so that the broker's preflight
(broker_config step=plan) can check ``kafkasec_broker_scram_users`` without loading confluent-kafka
on every host; ``kafka/scram.py`` keeps the credentials on the cluster and re-exports these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

# The SCRAM mechanisms Kafka implements (ScramMechanism); anything else (SCRAM-SHA-1, ...) is refused.
MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
# Kafka refuses iterations outside 4096..16384 (ScramMechanism.minIterations / maxIterations).
MIN_ITERATIONS = 4096
MAX_ITERATIONS = 16384
DEFAULT_ITERATIONS = 8192
UPDATE_PASSWORD = ("when_changed", "on_create")


class ScramError(ValueError):
    """Bad input (the message names the user and the variable) or a request the cluster refused."""


@dataclass(frozen=True)
class ScramUser:
    name: str
    mechanism: str = "SCRAM-SHA-512"
    iterations: int = DEFAULT_ITERATIONS
    password: Optional[str] = field(default=None, repr=False)
    state: str = "present"

    @property
    def label(self) -> str:
        return "%s (%s)" % (self.name, self.mechanism)


@dataclass(frozen=True)
class ScramAction:
    kind: str  # create | update | delete
    user: ScramUser
    reason: str

    def result(self) -> Dict[str, Any]:
        return {"user": self.user.name, "mechanism": self.user.mechanism, "action": self.kind,
                "iterations": self.user.iterations, "reason": self.reason}


def _check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise ScramError("%s: name must be a non-empty user name without surrounding spaces, not %r" % (where, name))
    if any(ord(ch) < 32 for ch in name):
        raise ScramError("%s: name %r holds a control character" % (where, name))
    return name


def parse_users(users: object, variable: str = "users") -> List[ScramUser]:
    """The wanted credentials, every entry checked first; a message names the entry and ``variable``."""
    if users is None:
        return []
    if isinstance(users, (str, bytes, Mapping)) or not isinstance(users, Sequence):
        raise ScramError("%s: expected a list of users ({name, password, mechanism, iterations, state})" % variable)
    parsed: List[ScramUser] = []
    seen = set()
    for index, entry in enumerate(users):
        where = "%s[%d]" % (variable, index)
        if not isinstance(entry, Mapping):
            raise ScramError("%s: expected a mapping with name and password, not %s" % (where, type(entry).__name__))
        unknown = sorted(set(entry) - {"name", "password", "mechanism", "iterations", "state"})
        if unknown:
            raise ScramError("%s: unknown key(s) %s" % (where, ", ".join(unknown)))
        name = _check_name(entry.get("name"), where)
        where = "%s (user %s)" % (where, name)
        mechanism = entry.get("mechanism") if entry.get("mechanism") is not None else "SCRAM-SHA-512"
        if mechanism not in MECHANISMS:
            hint = ""
            if isinstance(mechanism, str) and mechanism.upper() in MECHANISMS:
                hint = " (Kafka's mechanism names are upper case: %s)" % mechanism.upper()
            elif mechanism == "PLAIN":
                hint = " (PLAIN accounts live in the broker's JAAS entry, kafkasec_broker_sasl_plain_users)"
            raise ScramError("%s: unknown SCRAM mechanism %r%s; Kafka knows %s"
                             % (where, mechanism, hint, ", ".join(MECHANISMS)))
        state = entry.get("state") if entry.get("state") is not None else "present"
        if state not in ("present", "absent"):
            raise ScramError("%s: state must be present or absent, not %r" % (where, state))
        raw_iterations = entry.get("iterations") if entry.get("iterations") is not None else DEFAULT_ITERATIONS
        try:
            if isinstance(raw_iterations, bool):
                raise ValueError(raw_iterations)
            iterations = int(raw_iterations)
        except (TypeError, ValueError):
            raise ScramError("%s: iterations must be a number, not %r" % (where, raw_iterations)) from None
        if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
            raise ScramError("%s: iterations %d is outside what Kafka accepts (%d..%d)"
                             % (where, iterations, MIN_ITERATIONS, MAX_ITERATIONS))
        password = entry.get("password")
        if state == "present":
            if password is None or (isinstance(password, str) and not password):
                raise ScramError("%s: no password (there is no default password)" % where)
            if not isinstance(password, (str, int, float)) or isinstance(password, bool):
                raise ScramError("%s: the password must be a string" % where)
            password = str(password)
        if (name, mechanism) in seen:
            raise ScramError("%s: %s is listed twice for this user" % (where, mechanism))
        seen.add((name, mechanism))
        parsed.append(ScramUser(name, mechanism, iterations, password, state))
    return parsed


def scram_user_problems(users, variable="users", login_mechanisms=None):
    """``[]`` when every entry of ``users`` is a SCRAM credential Kafka accepts, else the problems.

    Messages name the entry, the user and ``variable`` (never a password). ``login_mechanisms``
    (a list): the mechanisms the SASL_SSL listener enables, where ``update_password: when_changed``
    checks each present user's password by a login; a user of another mechanism is a problem.
    """
    try:
        parsed = parse_users(users, variable)
    except ScramError as exc:
        return [str(exc)]
    if login_mechanisms is None:
        return []
    enabled = list(login_mechanisms)
    return ["%s: user %s uses %s, which the SASL_SSL listener does not enable (%s); its password is checked by a "
            "SCRAM login there (update_password when_changed): enable the mechanism, or use on_create"
            % (variable, user.name, user.mechanism, ", ".join(enabled) if enabled else "the listener is off")
            for user in parsed if user.state == "present" and user.mechanism not in enabled]
