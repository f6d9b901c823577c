# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCRAM credentials of a Kafka cluster, kept through the admin API.

Plain, typed Python with no Ansible imports. ``parse_users`` (kafka/scram_input.py, re-exported
here) checks the whole wanted list (names, mechanisms, iterations, passwords) before anything is
read or written, so one bad entry stops the task with a message naming the entry and the
variable. ``plan`` is a pure function of what is wanted, what the cluster has
(DescribeUserScramCredentials: user -> {mechanism: iterations}) and whether a password is still
the current one; ``ScramAdmin`` reads and writes the cluster with
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
from dataclasses import dataclass
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
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.scram_input import (  # noqa: F401 - re-exported
    DEFAULT_ITERATIONS,
    MAX_ITERATIONS,
    MECHANISMS,
    MIN_ITERATIONS,
    UPDATE_PASSWORD,
    ScramAction,
    ScramError,
    ScramUser,
    parse_users,
)

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
