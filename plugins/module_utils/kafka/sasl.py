# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SASL mechanisms and the JAAS options of their login modules.

Plain Python, no Ansible imports. The filters of plugins/filter/kafkasec.py quote what
these functions return; the functions decide *which* login module and options a
mechanism needs and refuse what Kafka would not understand, with a message that names
the variable the value came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Dict, Optional

__all__ = [
    "KNOWN_ELSEWHERE",
    "LOGIN_MODULES",
    "SaslError",
    "ZOOKEEPER_DIGEST_LOGIN_MODULE",
    "login_module",
    "sasl_options",
    "user_options",
]

# The mechanisms this collection writes JAAS entries for, with Kafka's login module for each.
LOGIN_MODULES: Dict[str, str] = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}
# Mechanisms Kafka has but whose JAAS entries (Kerberos keytabs, OAuth token endpoints)
# need settings this collection does not manage.
KNOWN_ELSEWHERE = ("GSSAPI", "OAUTHBEARER")
# ZooKeeper's digest login module: the Server section (user_<name>) and the Client section.
ZOOKEEPER_DIGEST_LOGIN_MODULE = "org.apache.zookeeper.server.auth.DigestLoginModule"


class SaslError(ValueError):
    """A mechanism or an option Kafka would not accept; the message names the variable."""


def login_module(mechanism: object, variable: str = "mechanism") -> str:
    """The login module class for ``mechanism`` (exact, case-sensitive, as Kafka spells it)."""
    if not isinstance(mechanism, str):
        raise SaslError("%s: a SASL mechanism must be a string, not %r" % (variable, mechanism))
    module = LOGIN_MODULES.get(mechanism)
    if module is not None:
        return module
    hint = ""
    if mechanism.upper() in LOGIN_MODULES:
        hint = " (Kafka's mechanism names are case-sensitive: %s)" % mechanism.upper()
    elif mechanism.upper() in KNOWN_ELSEWHERE:
        hint = " (%s needs settings this collection does not manage)" % mechanism.upper()
    raise SaslError("%s: unknown SASL mechanism %r%s; use one of %s"
                    % (variable, mechanism, hint, ", ".join(sorted(LOGIN_MODULES))))


def user_options(users: object, variable: str = "users") -> Dict[str, str]:
    """``{name: password}`` as login module options ``{"user_<name>": password}``.

    The form of PlainLoginModule's users on a broker and of ZooKeeper's
    DigestLoginModule in its ``Server`` section.
    """
    if users is None:
        return {}
    if not isinstance(users, Mapping):
        raise SaslError("%s: expected a mapping of user name to password" % variable)
    options: Dict[str, str] = {}
    for name, password in users.items():
        if not isinstance(name, str) or not name:
            raise SaslError("%s: a user name must be a non-empty string, not %r" % (variable, name))
        if password is None or (isinstance(password, str) and not password):
            raise SaslError("%s: user %r has no password" % (variable, name))
        if isinstance(password, (Mapping, list, tuple, bytes)):
            raise SaslError("%s: the password of user %r must be a string" % (variable, name))
        options["user_" + name] = password if isinstance(password, str) else str(password)
    return options


def sasl_options(mechanism: str, username: object, password: object,
                 users: Optional[Mapping] = None, variable: str = "mechanism",
                 users_variable: str = "users", login: bool = True) -> Dict[str, str]:
    """The options of ``mechanism``'s login module: ``username``, ``password`` and, for PLAIN, users.

    ``username``/``password`` are the identity this process logs in with (a client, or a
    broker talking to other brokers). ``users`` are the accounts a PLAIN broker accepts;
    SCRAM accounts live in the cluster's metadata, so ``users`` with SCRAM is an error.

    ``login=False`` is a listener's server side that never logs in itself (inter-broker traffic on
    another listener): no username/password, only PLAIN's users (for SCRAM the bare login module).
    """
    login_module(mechanism, variable)
    options: Dict[str, str] = {}
    if login:
        for option, value in (("username", username), ("password", password)):
            if value is None or (isinstance(value, str) and not value):
                raise SaslError("%s: the %s login needs a %s" % (variable, mechanism, option))
        options = {"username": str(username), "password": str(password)}
    if users:
        if mechanism != "PLAIN":
            raise SaslError(
                "%s: %s credentials live in the cluster (kafka-configs or the admin API), "
                "not in the JAAS entry; users can only be listed for PLAIN (%s is %s)"
                % (users_variable, mechanism, variable, mechanism))
        options.update(user_options(users, users_variable))
    return options
