# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a client bundle's files hold: Java's client.properties and librdkafka's properties file,
for a TLS client (a client certificate) or a SASL_SSL user (SCRAM or PLAIN over TLS).

Plain, typed Python, no Ansible imports; the filter ``kafkasec.tls.client_bundle_files`` calls
:func:`bundle_files` and ``tests/unit/test_client_bundle_files.py`` covers it table by table.

Escaping, as each reader reads:

* Java: ``sasl.jaas.config`` is JAAS text read by Kafka's ``JaasConfig`` (``java.io.StreamTokenizer``):
  the password is a double-quoted string with ``\\`` escapes (:func:`jaas_quote`). The whole
  ``key=value`` line is then written by ``kafkasec.tls.properties`` with Java-properties escaping.
* librdkafka: librdkafka itself reads no file; kcat's ``-F`` (and the Python loader of the tests,
  :func:`parse_librdkafka_text`, which does the same) reads ``key=value`` lines (``read_conf_file`` in
  kcat.c): each line is read into a 512-byte buffer, trimmed of whitespace (``isspace``) at both ends,
  ``#`` lines are comments, every ``\\:`` and ``\\=`` becomes ``:`` / ``=``, and the key ends at the
  first ``=``. There is no other escape, so a value is written as it is, and a value the reader would
  change (a line break, whitespace at its end or start, ``\\=`` or ``\\:``, a NUL, a line longer than
  the buffer) is refused by :func:`librdkafka_problems`.

Cipher suites: the brokers name them by their IANA names (``ssl.cipher.suites``, which Java reads);
librdkafka's ``ssl.cipher.suites`` is OpenSSL's cipher list (``SSL_CTX_set_cipher_list``), which
covers TLS 1.2 and older only: :func:`openssl_cipher_list` maps the TLS 1.2 suites to OpenSSL's names
and leaves the TLS 1.3 suites to OpenSSL's TLS 1.3 defaults (librdkafka has no setting for them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, List, Sequence, Tuple

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.sasl import LOGIN_MODULES

__all__ = [
    "BROKER_TLS_DEFAULTS",
    "IANA_TO_OPENSSL",
    "TLS13_SUITES",
    "ClientBundleError",
    "BROKER_VARIABLES",
    "broker_settings",
    "broker_tls",
    "bundle_files",
    "clients_problems",
    "cipher_suite_problems",
    "client_plan",
    "jaas_quote",
    "librdkafka_problems",
    "librdkafka_text",
    "openssl_cipher_list",
    "parse_librdkafka_text",
    "sasl_bootstrap_servers",
    "sasl_jaas_config",
]

# The kafkasec.tls.broker role's defaults (roles/broker/defaults/main.yml; a unit test keeps them equal):
# what a broker uses when the inventory sets none of kafkasec_broker_ssl_enabled_protocols,
# kafkasec_broker_ssl_protocol, kafkasec_broker_ssl_cipher_suites, kafkasec_broker_sasl_*.
BROKER_TLS_DEFAULTS: Dict[str, Any] = dict(
    enabled_protocols=["TLSv1.3", "TLSv1.2"],
    protocol="TLSv1.3",
    cipher_suites=[
        "TLS_AES_256_GCM_SHA384",
        "TLS_AES_128_GCM_SHA256",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ],
    sasl_enabled=False,
    sasl_port=9096,
    sasl_mechanisms=["SCRAM-SHA-512"],
)

# TLS 1.3 suites (IANA and OpenSSL spell them the same; OpenSSL sets them apart from the cipher list).
TLS13_SUITES = ("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
                "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256")

# The forward-secret TLS 1.2 suites a broker accepts (ECDHE/DHE; broker_plan refuses the rest), IANA -> OpenSSL.
IANA_TO_OPENSSL: Dict[str, str] = {
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384": "ECDHE-ECDSA-AES256-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM": "ECDHE-ECDSA-AES256-CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM": "ECDHE-ECDSA-AES128-CCM",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384": "ECDHE-RSA-AES256-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384": "DHE-RSA-AES256-GCM-SHA384",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256": "DHE-RSA-AES128-GCM-SHA256",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "DHE-RSA-CHACHA20-POLY1305",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256": "DHE-RSA-AES256-SHA256",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256": "DHE-RSA-AES128-SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA": "DHE-RSA-AES256-SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA": "DHE-RSA-AES128-SHA",
}

TLS_PROTOCOLS = ("TLSv1.3", "TLSv1.2")
SASL_MECHANISMS = tuple(sorted(LOGIN_MODULES))
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
# kcat's read_conf_file reads each line with fgets into char[512]: at most 510 characters and the newline.
LIBRDKAFKA_LINE_MAX = 510
# C isspace() in the C locale.
_C_SPACE = " \t\n\v\f\r"


class ClientBundleError(ValueError):
    """An input a bundle cannot be made from; the message names the variable."""


# --------------------------------------------------------------------------------------------- JAAS

def jaas_quote(value: str) -> str:
    """``value`` as a double-quoted StreamTokenizer string (Kafka's ``JaasConfig``).

    Inside quotes StreamTokenizer reads ``\\\\``, ``\\"``, ``\\n``, ``\\r``, ``\\t`` and octal ``\\ooo``
    and ends the string at an unescaped ``"``, CR or LF; ``;``, ``=``, spaces and non-ASCII are literal.
    """
    out = ['"']
    for char in value:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append("\\%03o" % code)
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def sasl_jaas_config(mechanism: str, username: str, password: str) -> str:
    """``sasl.jaas.config`` of a client: ``<login module> required username="..." password="...";``."""
    module = LOGIN_MODULES.get(mechanism)
    if module is None:
        raise ClientBundleError("unknown SASL mechanism %r; use one of %s" % (mechanism, ", ".join(SASL_MECHANISMS)))
    return "%s required username=%s password=%s;" % (module, jaas_quote(username), jaas_quote(password))


# ---------------------------------------------------------------------------------------- librdkafka

def librdkafka_problems(key: str, value: str) -> List[str]:
    """Why kcat's ``-F`` reader would not read ``key=value`` back as written (empty: it would)."""
    problems: List[str] = []
    if "\n" in value or "\r" in value:
        problems.append("it holds a line break (the file has one setting per line and no escape for it)")
    if "\0" in value:
        problems.append("it holds a NUL character")
    if value[:1] and value[:1] in _C_SPACE or value[-1:] and value[-1:] in _C_SPACE:
        problems.append("it starts or ends with whitespace (the reader trims each line)")
    if "\\=" in value or "\\:" in value:
        problems.append("it holds \\= or \\: (the reader turns them into = and :, with no way to keep them)")
    length = len(("%s=%s" % (key, value)).encode("utf-8"))
    if length > LIBRDKAFKA_LINE_MAX:
        problems.append("its line would be %d bytes; kcat reads at most %d per line" % (length, LIBRDKAFKA_LINE_MAX))
    return problems


def librdkafka_text(header: str, settings: Sequence[Tuple[str, str]]) -> str:
    """The file: ``# <header>`` and ``key=value`` lines as they are (no escapes), each with a newline.

    The layout is what ``kafkasec.tls.properties`` wrote for a new TLS bundle, so the file of a bundle
    whose settings did not change stays byte for byte the same.
    """
    lines = ["# " + header] if header else []
    lines += ["%s=%s" % (key, value) for key, value in settings]
    return "".join(line + "\n" for line in lines)


def parse_librdkafka_text(text: str) -> Dict[str, str]:
    """``key -> value`` as kcat's ``read_conf_file`` reads the file (for tests and for Python clients)."""
    out: Dict[str, str] = {}
    for raw in text.encode("utf-8").split(b"\n"):
        # Lines longer than the buffer would be cut by fgets: refuse to guess.
        if len(raw) > LIBRDKAFKA_LINE_MAX:
            raise ClientBundleError("a line of %d bytes is longer than kcat reads" % len(raw))
        line = raw.decode("utf-8").strip(_C_SPACE)
        if not line or line.startswith("#"):
            continue
        while "\\:" in line:
            line = line.replace("\\:", ":", 1)
        while "\\=" in line:
            line = line.replace("\\=", "=", 1)
        key, sep, value = line.partition("=")
        if not sep or not key:
            raise ClientBundleError("expected property=value, not %r" % line)
        out[key] = value
    return out


# ------------------------------------------------------------------------------------- cipher suites

def cipher_suite_problems(suites: Any, protocols: Sequence[str], variable: str) -> List[str]:
    """Every suite a TLS 1.3 suite or a forward-secret TLS 1.2 suite of :data:`IANA_TO_OPENSSL`, by IANA name."""
    if not isinstance(suites, (list, tuple)):
        return ["%s must be a list of cipher suites (IANA names), not %r" % (variable, suites)]
    texts = [str(s) for s in suites]
    unknown = [s for s in texts if s not in TLS13_SUITES and s not in IANA_TO_OPENSSL]
    if unknown:
        return ["%s: %s are not forward-secret cipher suites by their IANA names that this collection can also "
                "give librdkafka by their OpenSSL names (TLS_AES_*/TLS_CHACHA20_* for TLS 1.3, TLS_ECDHE_*/TLS_DHE_* "
                "with AES or ChaCha20 for TLS 1.2)" % (variable, unknown)]
    problems = []
    if texts and "TLSv1.3" in protocols and not [s for s in texts if s in TLS13_SUITES]:
        problems.append("%s: with TLSv1.3 enabled it must include TLS 1.3 suites" % variable)
    if texts and "TLSv1.2" in protocols and list(protocols) == ["TLSv1.2"] and not [s for s in texts if s in IANA_TO_OPENSSL]:
        problems.append("%s: with only TLSv1.2 enabled it must include TLS 1.2 suites" % variable)
    return problems


def openssl_cipher_list(suites: Sequence[str]) -> str:
    """librdkafka's ``ssl.cipher.suites``: the TLS 1.2 suites by OpenSSL name, ``:``-separated ('' if none)."""
    names = []
    for suite in suites:
        if suite in TLS13_SUITES:
            continue
        if suite not in IANA_TO_OPENSSL:
            raise ClientBundleError("cipher suite %r has no OpenSSL name here" % suite)
        names.append(IANA_TO_OPENSSL[suite])
    return ":".join(names)


# ------------------------------------------------------------------------------------ the brokers

def _listed(value: Any, default: List[Any]) -> List[Any]:
    if value is None:
        return list(default)
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def broker_tls(brokers: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    """The TLS and SASL settings of the brokers' listeners, for the clients to match.

    ``brokers`` are the hosts of group kafka_broker as ``{name, kafkasec_broker_*: value or None}``
    (None: the host does not set it, so the broker role's default applies). The first broker's settings
    count (a rollout sets them for the whole group); no broker: the broker role's defaults.
    """
    first: Mapping[str, Any] = brokers[0] if brokers else {}

    def pick(variable: str, key: str) -> Any:
        value = first.get(variable)
        return BROKER_TLS_DEFAULTS[key] if value is None else value

    return dict(
        enabled_protocols=_listed(first.get("kafkasec_broker_ssl_enabled_protocols"),
                                  BROKER_TLS_DEFAULTS["enabled_protocols"]),
        protocol=str(pick("kafkasec_broker_ssl_protocol", "protocol")),
        cipher_suites=_listed(first.get("kafkasec_broker_ssl_cipher_suites"), BROKER_TLS_DEFAULTS["cipher_suites"]),
        sasl_mechanisms=_listed(first.get("kafkasec_broker_sasl_mechanisms"), BROKER_TLS_DEFAULTS["sasl_mechanisms"]),
    )


# The broker role's variables that the clients of the brokers (client bundles, Connect workers) must match.
BROKER_VARIABLES = ("kafkasec_broker_ssl_enabled_protocols", "kafkasec_broker_ssl_protocol",
                    "kafkasec_broker_ssl_cipher_suites", "kafkasec_broker_sasl_enabled", "kafkasec_broker_sasl_port",
                    "kafkasec_broker_sasl_mechanisms", "kafkasec_broker_advertised_host",
                    "kafkasec_broker_sasl_plain_users")


def broker_settings(hosts: Sequence[str], hostvars: Mapping[str, Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """[{name, <variable>: value or None}] for each broker host: the BROKER_VARIABLES it sets (None: the broker
    role's default applies), what :func:`broker_tls` and :func:`sasl_bootstrap_servers` read."""
    out = []
    for host in hosts:
        own = hostvars[host]
        item: Dict[str, Any] = {"name": host}
        item.update((v, own[v] if v in own else None) for v in BROKER_VARIABLES)
        out.append(item)
    return out


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y")
    return bool(value)


def sasl_bootstrap_servers(brokers: Sequence[Mapping[str, Any]]) -> List[str]:
    """``<advertised host>:<SASL_SSL port>`` of each broker whose SASL_SSL listener is on."""
    out = []
    for broker in brokers:
        enabled = broker.get("kafkasec_broker_sasl_enabled")
        if not _flag(BROKER_TLS_DEFAULTS["sasl_enabled"] if enabled is None else enabled):
            continue
        host = broker.get("kafkasec_broker_advertised_host") or broker.get("name")
        port = broker.get("kafkasec_broker_sasl_port")
        out.append("%s:%s" % (host, BROKER_TLS_DEFAULTS["sasl_port"] if port in (None, "") else port))
    return out


# ------------------------------------------------------------------------------------------ bundle

def _client_where(host: str, name: str, option: str) -> str:
    return "host %s, kafkasec_client_bundle_clients (client %s%s)" % (host, name, (", " + option) if option else "")


def bundle_files(inputs: Mapping[str, Any]) -> Dict[str, Any]:
    """One client's files: ``java`` (client.properties: key -> value, '' = remove the key),
    ``librdkafka`` (the file's text), and ``problems`` (messages; when any, the other two are empty).

    ``inputs``: host (where the bundle is written), name, bootstrap_servers (list), ca_path, truststore_path,
    truststore_password, certificate (bool) with cert_path, key_path, keystore_path, keystore_password,
    sasl (None, or {mechanism, username, password}), enabled_protocols, protocol, cipher_suites,
    cipher_variable (the variable the suites came from, for messages).
    """
    host = str(inputs.get("host", ""))
    name = str(inputs.get("name", ""))
    sasl = inputs.get("sasl") or None
    certificate = bool(inputs.get("certificate", not sasl))
    protocols = [str(p) for p in inputs.get("enabled_protocols") or []]
    suites = inputs.get("cipher_suites")
    suites = [] if suites is None else suites
    cipher_variable = str(inputs.get("cipher_variable") or "kafkasec_client_bundle_ssl_cipher_suites")
    problems = ["%s: %s" % (host and "host %s" % host or "client bundle", p)
                for p in cipher_suite_problems(suites, protocols, cipher_variable)]
    servers = [str(s) for s in inputs.get("bootstrap_servers") or []]
    bootstrap = ",".join(servers)
    if sasl is not None:
        mechanism = str(sasl.get("mechanism", ""))
        username = sasl.get("username")
        password = sasl.get("password")
        if mechanism not in SASL_MECHANISMS:
            problems.append("%s: unknown SASL mechanism %r; use one of %s" % (
                _client_where(host, name, "sasl_mechanism"), mechanism, ", ".join(SASL_MECHANISMS)))
        if not isinstance(username, str) or not username:
            problems.append("%s: the SASL user name must be a non-empty string" % _client_where(host, name, "sasl_username"))
        if not isinstance(password, str) or not password:
            problems.append("%s: the SASL password must be a non-empty string" % _client_where(host, name, "sasl_password"))
        else:
            problems += ["%s: librdkafka's properties file cannot carry the password: %s" % (
                _client_where(host, name, "sasl_password"), p) for p in librdkafka_problems("sasl.password", password)]
        offered = inputs.get("offered_mechanisms")
        if offered is not None and mechanism in SASL_MECHANISMS and mechanism not in offered:
            problems.append("%s: the brokers' SASL_SSL listener does not offer %s (kafkasec_broker_sasl_mechanisms: %s)" % (
                _client_where(host, name, "sasl_mechanism"), mechanism, ", ".join(map(str, offered))))
        if not servers:
            problems.append("%s: no SASL_SSL listener to bootstrap from: no broker has kafkasec_broker_sasl_enabled, "
                            "and kafkasec_client_bundle_sasl_bootstrap_servers is empty" % _client_where(host, name, ""))
        plain_users = inputs.get("plain_users")
        if mechanism == "PLAIN" and isinstance(username, str) and plain_users is not None:
            if not isinstance(plain_users, Mapping) or username not in plain_users:
                problems.append("%s: PLAIN users live in the brokers' JAAS entry: add %s to kafkasec_broker_sasl_plain_users "
                                "and roll the brokers first" % (_client_where(host, name, "sasl_username"), username))
            elif isinstance(password, str) and plain_users[username] != password:
                problems.append("%s: the password differs from the one kafkasec_broker_sasl_plain_users gives %s" % (
                    _client_where(host, name, "sasl_password"), username))
        refused = inputs.get("refused_principals") or {}
        if isinstance(username, str) and "User:" + username in refused:
            problems.append("%s: User:%s is %s's principal; a SASL user may not take it (kafkasec_shared_principals "
                            "lets it)" % (_client_where(host, name, "sasl_username"), username, refused["User:" + username]))
        if isinstance(username, str) and username:
            problems += ["%s: librdkafka's properties file cannot carry the user name: %s" % (
                _client_where(host, name, "sasl_username"), p) for p in librdkafka_problems("sasl.username", username)]
    if problems:
        return dict(java={}, librdkafka="", problems=problems)

    tls12 = openssl_cipher_list(suites)
    java: Dict[str, str] = {
        "bootstrap.servers": bootstrap,
        "security.protocol": "SASL_SSL" if sasl else "SSL",
        "sasl.mechanism": str(sasl["mechanism"]) if sasl else "",
        "sasl.jaas.config": sasl_jaas_config(str(sasl["mechanism"]), str(sasl["username"]),
                                             str(sasl["password"])) if sasl else "",
        "ssl.keystore.type": "PKCS12" if certificate else "",
        "ssl.keystore.location": str(inputs.get("keystore_path", "")) if certificate else "",
        "ssl.keystore.password": str(inputs.get("keystore_password", "")) if certificate else "",
        "ssl.truststore.type": "PKCS12",
        "ssl.truststore.location": str(inputs.get("truststore_path", "")),
        "ssl.truststore.password": str(inputs.get("truststore_password", "")),
        "ssl.enabled.protocols": ",".join(protocols),
        "ssl.protocol": str(inputs.get("protocol", "")),
        "ssl.endpoint.identification.algorithm": "https",
        "ssl.cipher.suites": ",".join(str(s) for s in suites),
    }
    rdkafka: List[Tuple[str, str]] = []
    if bootstrap:
        rdkafka.append(("bootstrap.servers", bootstrap))
    rdkafka.append(("security.protocol", "sasl_ssl" if sasl else "ssl"))
    if sasl:
        rdkafka += [("sasl.mechanisms", str(sasl["mechanism"])), ("sasl.username", str(sasl["username"])),
                    ("sasl.password", str(sasl["password"]))]
    rdkafka.append(("ssl.ca.location", str(inputs.get("ca_path", ""))))
    if certificate:
        rdkafka += [("ssl.certificate.location", str(inputs.get("cert_path", ""))),
                    ("ssl.key.location", str(inputs.get("key_path", "")))]
    rdkafka.append(("ssl.endpoint.identification.algorithm", "https"))
    if tls12:
        rdkafka.append(("ssl.cipher.suites", tls12))
    for key, value in rdkafka:
        if key in ("sasl.password", "sasl.username"):
            continue   # checked above, with the variable's name
        problems += ["%s: librdkafka's properties file cannot carry %s: %s" % (
            _client_where(host, name, ""), key, p) for p in librdkafka_problems(key, value)]
    if problems:
        return dict(java={}, librdkafka="", problems=problems)
    header = "%s client %s (kafkasec.tls.client_bundle; managed by Ansible)" % ("SASL_SSL" if sasl else "TLS", name)
    return dict(java=java, librdkafka=librdkafka_text(header, rdkafka), problems=[], header=header)


# Placeholders of the values a run makes later (store and generated passwords), for the checks before it.
_LATER = "generated-later"
CLIENT_KEYS = ("name", "dns_names", "sasl_mechanism", "sasl_username", "sasl_password", "certificate")


def client_plan(client: Mapping[str, Any]) -> Dict[str, Any]:
    """What one entry of ``kafkasec_client_bundle_clients`` gets, the one place of these rules (the role and
    :func:`clients_problems` both read it):

    * ``sasl``: the entry is a SASL_SSL user when it names ``sasl_mechanism``; its ``mechanism``;
    * ``scram``: its user is created on the brokers through the admin API (SCRAM-SHA-256/512; PLAIN users
      are the brokers' own ``kafkasec_broker_sasl_plain_users``);
    * ``certificate``: the entry's ``certificate`` when set, else a TLS client has one and a SASL user none;
    * ``sasl_username``: the entry's, else its name;
    * ``generate_password``: a SASL user without ``sasl_password`` gets one generated once and kept.
    """
    name = str(client.get("name", ""))
    mechanism = client.get("sasl_mechanism")
    sasl = mechanism is not None
    certificate = client.get("certificate")
    return dict(
        sasl=sasl,
        mechanism=str(mechanism) if sasl else "",
        scram=sasl and str(mechanism) in SCRAM_MECHANISMS,
        certificate=(not sasl) if certificate is None else certificate,
        sasl_username=str(client.get("sasl_username", name)) if sasl else "",
        generate_password=sasl and client.get("sasl_password") is None,
    )


def clients_problems(clients: Any, common: Mapping[str, Any]) -> List[str]:
    """Every reason a client of ``kafkasec_client_bundle_clients`` cannot get its files, before anything changes.

    ``common``: host, bootstrap_servers, sasl_bootstrap_servers, enabled_protocols, protocol, cipher_suites,
    offered_mechanisms, plain_users, refused_principals. Names and impersonation of the certificate are
    principals.client_problems'; this checks the SASL settings, the values librdkafka's file must carry and
    the cipher suites (once, not per client).
    """
    if not isinstance(clients, (list, tuple)):
        return []
    host = str(common.get("host", ""))
    problems: List[str] = []
    base = dict(common)
    base.update(truststore_password=_LATER, keystore_password=_LATER, ca_path="/ca.crt", cert_path="/c.crt",
                key_path="/c.key", keystore_path="/k.p12", truststore_path="/t.p12")
    for client in clients:
        if not isinstance(client, Mapping):
            continue   # principals.client_problems names it
        name = str(client.get("name", ""))
        unknown = sorted(set(map(str, client)) - set(CLIENT_KEYS))
        if unknown:
            problems.append("%s: unknown keys %s; an item has %s" % (
                _client_where(host, name, ""), ", ".join(unknown), ", ".join(CLIENT_KEYS)))
            continue
        plan = client_plan(client)
        sasl = None
        if plan["sasl"]:
            if plan["generate_password"] and plan["mechanism"] == "PLAIN":
                problems.append("%s: a PLAIN user needs its password (the one of kafkasec_broker_sasl_plain_users)" % (
                    _client_where(host, name, "sasl_password")))
                continue
            sasl = dict(mechanism=plan["mechanism"], username=client.get("sasl_username", name),
                        password=_LATER if plan["generate_password"] else client.get("sasl_password"))
        elif [k for k in ("sasl_username", "sasl_password") if k in client]:
            problems.append("%s: sasl_username and sasl_password need sasl_mechanism" % _client_where(host, name, ""))
            continue
        if not isinstance(plan["certificate"], bool):
            problems.append("%s: certificate must be true or false, not %r" % (_client_where(host, name, "certificate"),
                                                                               plan["certificate"]))
            continue
        inputs = dict(base, name=name, sasl=sasl, certificate=plan["certificate"],
                      bootstrap_servers=common.get("sasl_bootstrap_servers") if sasl else common.get("bootstrap_servers"))
        for problem in bundle_files(inputs)["problems"]:
            if problem not in problems:
                problems.append(problem)
    return problems
