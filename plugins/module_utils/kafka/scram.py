# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCRAM credentials of a Kafka cluster, kept through the admin API.

Plain, typed Python with no Ansible imports. ``parse_users`` checks the whole wanted list (names,
mechanisms, iterations, passwords) before anything is read or written, so one bad entry stops the
task with a message naming the entry and the variable. ``plan`` is a pure function of what is
wanted, what the cluster has (DescribeUserScramCredentials: user -> {mechanism: iterations}) and
whether a password is still the current one; ``ScramAdmin`` reads and writes the cluster with
confluent-kafka's AdminClient (AlterUserScramCredentials, KIP-554), connected as the node (mTLS).

Kafka keeps only a salted hash of a SCRAM password, so "is the password unchanged?" cannot be
read back. By default it is answered by a real SCRAM authentication against the SASL_SSL
listener with the wanted password (``update_password: when_changed``): a login that succeeds
means nothing to do, an authentication failure means the password changed. ``on_create`` sets
passwords only for credentials that do not exist yet (no login attempt).
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

try:
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import (AdminClient, ScramCredentialInfo, ScramMechanism,
                                       UserScramCredentialDeletion, UserScramCredentialUpsertion)
except ImportError:  # pragma: no cover - the import error is reported by cluster.confluent_kafka_problem()
    IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    IMPORT_ERROR = None

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.cluster import ClusterReader, ClusterRequest, HealthError

__all__ = [
    "DEFAULT_ITERATIONS",
    "MAX_ITERATIONS",
    "MECHANISMS",
    "MIN_ITERATIONS",
    "ScramAction",
    "ScramAdmin",
    "ScramError",
    "ScramUser",
    "parse_users",
    "plan",
]

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


def plan(wanted: Sequence[ScramUser], existing: Mapping[str, Mapping[str, int]],
         password_current: Callable[[ScramUser], bool], update_password: str = "when_changed") -> List[ScramAction]:
    """What to change so that the cluster has ``wanted``.

    ``existing``: user -> {mechanism: iterations} as DescribeUserScramCredentials reports it.
    ``password_current(user)`` says whether ``user.password`` still logs in; it is only asked
    for credentials that exist with the wanted iterations and only with ``when_changed``.
    """
    if update_password not in UPDATE_PASSWORD:
        raise ScramError("update_password must be one of %s, not %r" % (", ".join(UPDATE_PASSWORD), update_password))
    actions: List[ScramAction] = []
    for user in wanted:
        have = existing.get(user.name, {})
        if user.state == "absent":
            if user.mechanism in have:
                actions.append(ScramAction("delete", user, "state absent"))
            continue
        if user.mechanism not in have:
            actions.append(ScramAction("create", user, "no %s credential" % user.mechanism))
        elif update_password == "on_create":
            continue
        elif int(have[user.mechanism]) != user.iterations:
            actions.append(ScramAction("update", user, "iterations %s -> %d" % (have[user.mechanism], user.iterations)))
        elif not password_current(user):
            actions.append(ScramAction("update", user, "password changed (the SCRAM login with it failed)"))
    return actions


# -- the real cluster ----------------------------------------------------------------------------

@dataclass(frozen=True)
class SaslLogin:
    """Where and how to try a SCRAM login: the SASL_SSL listener, verified by the CA, by host name."""

    bootstrap_servers: Sequence[str]
    ca_path: str
    timeout: float = 15.0


def _mechanism(name: str) -> "ScramMechanism":
    return ScramMechanism.SCRAM_SHA_256 if name == "SCRAM-SHA-256" else ScramMechanism.SCRAM_SHA_512


def _mechanism_name(mechanism: "ScramMechanism") -> str:
    return str(getattr(mechanism, "name", mechanism)).replace("_", "-")


def login_works(login: SaslLogin, user: ScramUser) -> bool:
    """Whether ``user`` authenticates on the SASL_SSL listener; ScramError when the answer is unknown.

    A metadata request with the user's credentials: it answers -> True; the broker reports an
    authentication failure -> False; anything else (no listener, TLS failure, timeout) raises,
    since then the password cannot be told current or not.
    """
    errors: List[Any] = []
    logger = logging.getLogger("kafkasec.scram.%d" % id(errors))
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    logger.setLevel(logging.ERROR)
    client = AdminClient({
        "bootstrap.servers": ",".join(login.bootstrap_servers),
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": user.mechanism,
        "sasl.username": user.name,
        "sasl.password": user.password,
        "ssl.ca.location": login.ca_path,
        "ssl.endpoint.identification.algorithm": "https",
        "client.id": "kafkasec-scram-check",
        "socket.connection.setup.timeout.ms": int(login.timeout * 1000),
        "reconnect.backoff.ms": 200,
        "error_cb": errors.append,
        "logger": logger,
    })
    deadline = time.monotonic() + login.timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            client.list_topics(timeout=min(0.5, max(0.1, deadline - time.monotonic())))
            return True
        except KafkaException as exc:
            err = exc.args[0] if exc.args else exc
            last = err.str() if hasattr(err, "str") else str(err)
        client.poll(0)  # serves error_cb
        for error in errors:
            if not hasattr(error, "code") or error.code() != KafkaError._AUTHENTICATION:
                continue
            if "nsupported SASL mechanism" in error.str():
                raise ScramError("cannot check the password of %s: the SASL_SSL listener %s does not enable %s "
                                 "(add it to the listener's mechanisms, or set update_password to on_create)"
                                 % (user.label, ",".join(login.bootstrap_servers), user.mechanism))
            return False
    seen = "; ".join(e.str() if hasattr(e, "str") else str(e) for e in errors[-3:]) or last
    raise ScramError("cannot tell whether the password of %s is current: no answer from the SASL_SSL listener %s "
                     "within %.0f s (%s); set update_password to on_create to skip the check"
                     % (user.label, ",".join(login.bootstrap_servers), login.timeout, seen or "no error reported"))


class ScramAdmin:
    """DescribeUserScramCredentials / AlterUserScramCredentials, connected as the node (mTLS)."""

    def __init__(self, request: ClusterRequest) -> None:
        try:
            self.reader = ClusterReader(request)
        except HealthError as exc:
            raise ScramError(str(exc)) from None
        self.timeout = request.request_timeout

    def describe(self, names: Sequence[str]) -> Dict[str, Dict[str, int]]:
        """user -> {mechanism: iterations} for ``names`` (users without credentials are left out)."""
        found: Dict[str, Dict[str, int]] = {}
        if not names:
            return found
        try:
            futures = self.reader.admin.describe_user_scram_credentials(sorted(set(names)), request_timeout=self.timeout)
        except Exception as exc:  # pylint: disable=broad-except  # KafkaException, or a timeout
            raise ScramError(str(self.reader.failure("cannot describe the SCRAM credentials", exc))) from None
        for name, future in futures.items():
            try:
                description = future.result(timeout=self.timeout + 5)
            except KafkaException as exc:
                err = exc.args[0] if exc.args else None
                if err is not None and hasattr(err, "code") and err.code() == KafkaError.RESOURCE_NOT_FOUND:
                    continue
                raise ScramError(str(self.reader.failure("cannot describe the SCRAM credentials of %s" % name, exc))) from None
            infos = getattr(description, "scram_credential_infos", []) or []
            if infos:
                found[name] = {_mechanism_name(i.mechanism): int(i.iterations) for i in infos}
        return found

    def alter(self, actions: Sequence[ScramAction]) -> None:
        """Apply ``actions`` in one request; a refusal names the users it concerns."""
        if not actions:
            return
        alterations = []
        for action in actions:
            mechanism = _mechanism(action.user.mechanism)
            if action.kind == "delete":
                alterations.append(UserScramCredentialDeletion(action.user.name, mechanism))
            else:
                alterations.append(UserScramCredentialUpsertion(
                    action.user.name, ScramCredentialInfo(mechanism, action.user.iterations),
                    action.user.password.encode("utf-8")))
        try:
            futures = self.reader.admin.alter_user_scram_credentials(alterations, request_timeout=self.timeout)
        except Exception as exc:  # pylint: disable=broad-except
            raise ScramError(str(self.reader.failure("cannot alter the SCRAM credentials", exc))) from None
        failed = []
        for name, future in futures.items():
            try:
                future.result(timeout=self.timeout + 5)
            except Exception as exc:  # pylint: disable=broad-except  # KafkaException or a timeout
                err = exc.args[0] if exc.args else exc
                failed.append("%s: %s" % (name, err.str() if hasattr(err, "str") else err))
        if failed:
            raise ScramError("the cluster refused SCRAM credential changes: %s" % "; ".join(failed))


def ensure(request: ClusterRequest, users: Sequence[ScramUser], login: Optional[SaslLogin],
           update_password: str = "when_changed", check_mode: bool = False) -> List[ScramAction]:
    """Read, plan and (unless ``check_mode``) apply; returns the actions (done or, in check mode, due)."""
    if update_password == "when_changed" and login is None and any(u.state == "present" for u in users):
        raise ScramError("update_password when_changed needs sasl_bootstrap_servers (the SASL_SSL listener that "
                         "checks whether a password is current)")
    admin = ScramAdmin(request)
    existing = admin.describe([u.name for u in users])
    actions = plan(users, existing, lambda user: login_works(login, user) if login else True, update_password)
    if not check_mode:
        admin.alter(actions)
    return actions
