# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JMX guard (java/jmx-guard): the JVM options that load it and its rules files, from the inventory.

The guard is an MBeanServerBuilder on the boot class path (``-Xbootclasspath/a:``, which works the same
through ``KAFKA_OPTS`` for kafka-run-class.sh and ``SERVER_JVMFLAGS`` for zkServer.sh, whatever their
CLASSPATH handling) that checks every remote getAttribute(s), setAttribute(s), invoke, createMBean,
registerMBean and unregisterMBean against Apache Karaf's rule files: ``jmx.acl[.<domain>[.<type>[.<value>...]]].cfg``
with ``op = roles``, ``op(types) = roles``, ``op(types)["literal",/regex/] = roles``, ``op[/regex/] = roles``
and ``get*``/``*`` wildcards, plus ``jmx.users.cfg`` (Karaf's users.properties without passwords:
``user = _g_:group, role`` and ``_g_\\:group = group, role``). java/jmx-guard/README.md is the reference.

Pure Python, no Ansible: ``jvm_options`` and ``render_rules`` are what the jmx role calls. ``render_rules``
takes the structure the inventory holds::

    {"users": {"alice": {"groups": ["monitoring"], "roles": []}},
     "groups": {"monitoring": ["viewer"], "admins": ["admin"]},
     "rules": [{"mbean": "kafka.log:type=LogManager",
                "operations": {"get*": ["viewer"],
                               "setLogLevel(java.lang.String,java.lang.String)": ["admin"],
                               "flush(/.*/)": ["manager"]}}]}

and returns ``{file name: content}``, every problem named with the variable, the place and the value.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

VARIABLE = "kafkasec_jmx_guard"
JAR_NAME = "kafkasec-jmx-guard.jar"
BUILDER_CLASS = "io.kafkasec.jmxguard.GuardMBeanServerBuilder"
CONFIG_PROPERTY = "kafkasec.jmx.guard.config"
POLL_PROPERTY = "kafkasec.jmx.guard.poll.ms"
GUARD_MBEAN = "kafkasec.jmx:type=Guard"
PID_PREFIX = "jmx.acl"
USERS_FILE = "jmx.users.cfg"
GROUP_PREFIX = "_g_:"
ADMIN_ROLE = "admin"
# The root PID's rules: an ObjectName pattern for every MBean.
ROOT_MBEAN = "*:*"

TOP_KEYS = ("users", "groups", "rules")
USER_KEYS = ("groups", "roles")
RULE_KEYS = ("mbean", "operations")

_ROLE = re.compile(r"^[A-Za-z0-9_.-]+$")
_USER = re.compile(r"^[^\s=:#!\\,]+$")
_OP_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$.]*$")
_WILDCARD_CORE = re.compile(r"^[A-Za-z0-9_$.]*$")
_JAVA_TYPE = re.compile(r"^\[*[A-Za-z_$][A-Za-z0-9_$.;\[]*(\[\])*$")
_SAFE_PATH = re.compile(r"^/[^\s'\"`$\\;&|<>*?]*$")
_KEY_CHARS_BAD = set(':,=*?"\n\r')
_VALUE_CHARS_BAD = set(',=:"*?\n\r')


class GuardRulesError(ValueError):
    """Bad input for the guard; the message names the variable, where in it, and the value."""


def _fail(where: str, message: str) -> GuardRulesError:
    return GuardRulesError("%s: %s" % (where, message))


# ---------------------------------------------------------------- JVM options

def jvm_options(jar_path: str, rules_path: str, poll_ms: Optional[int] = None,
                variable: str = VARIABLE) -> List[str]:
    """The options that load the guard: the jar on the boot class path, the builder, the rules directory.

    They must reach the JVM's command line before the platform MBeanServer exists (any -D in KAFKA_OPTS or
    SERVER_JVMFLAGS does). Paths are absolute and free of spaces and shell characters, since
    kafka-run-class.sh and zkServer.sh split these variables on white space.
    """
    for name, value in (("jar path", jar_path), ("rules path", rules_path)):
        if not isinstance(value, str) or not _SAFE_PATH.match(value) or value == "/":
            raise _fail(variable, "the guard's %s must be an absolute path without spaces, quotes or shell "
                                  "characters, got %r" % (name, value))
    options = ["-Xbootclasspath/a:%s" % jar_path,
               "-Djavax.management.builder.initial=%s" % BUILDER_CLASS,
               "-D%s=%s" % (CONFIG_PROPERTY, rules_path)]
    if poll_ms is not None:
        if isinstance(poll_ms, bool) or not isinstance(poll_ms, int) or poll_ms < 100:
            raise _fail(variable, "the poll interval is a number of milliseconds >= 100, got %r" % (poll_ms,))
        options.append("-D%s=%d" % (POLL_PROPERTY, poll_ms))
    return options


# ---------------------------------------------------------------- ObjectName -> PID

def _split_properties(text: str, where: str, value: str) -> List[str]:
    """Split an ObjectName's key property list on the commas outside quoted values."""
    items, cur, quoted, i = [], [], False, 0
    while i < len(text):
        ch = text[i]
        if quoted and ch == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    if quoted:
        raise _fail(where, "%r is not an ObjectName: a quoted value is not closed" % value)
    items.append("".join(cur))
    return items


def pid_segments(mbean: str, where: str = VARIABLE) -> List[str]:
    """The PID segments of an ObjectName (pattern), in the guard's (Karaf's) order: the domain, the value of
    ``type``, then the other values as written. ``*:*`` is the root (no segment); ``domain:*`` or a trailing
    ``,*`` adds nothing (a PID applies to everything below it); a value ``*`` is the PID wildcard ``_``.
    Raises GuardRulesError naming ``where`` and the value."""
    if not isinstance(mbean, str) or not mbean.strip():
        raise _fail(where, "an ObjectName (pattern) such as 'kafka.log:type=LogManager' is required, got %r"
                    % (mbean,))
    if mbean == ROOT_MBEAN:
        return []
    if ":" not in mbean:
        raise _fail(where, "%r is not an ObjectName: no ':' between the domain and the key properties" % mbean)
    domain, props = mbean.split(":", 1)
    if not domain:
        raise _fail(where, "%r is not an ObjectName: the domain is empty" % mbean)
    if any(c in domain for c in "*?"):
        raise _fail(where, "%r: a domain pattern cannot be a rules file (Karaf's PIDs name one domain); "
                           "use '*:*' for every MBean" % mbean)
    if any(c in domain for c in ",=\n\r/") or domain.startswith(".") or domain.endswith("."):
        raise _fail(where, "%r is not an ObjectName: bad character in the domain %r" % (mbean, domain))
    if not props:
        raise _fail(where, "%r is not an ObjectName: no key property (write %s:* for the whole domain)"
                    % (mbean, domain))
    segments = [domain]
    type_value = None
    seen = set()
    items = _split_properties(props, where, mbean)
    for n, item in enumerate(items):
        if item == "*":
            if n != len(items) - 1:
                raise _fail(where, "%r is not an ObjectName: '*' only as the last key property" % mbean)
            continue
        if "=" not in item:
            raise _fail(where, "%r is not an ObjectName: %r is not key=value" % (mbean, item))
        key, value = item.split("=", 1)
        if not key or any(c in _KEY_CHARS_BAD for c in key):
            raise _fail(where, "%r is not an ObjectName: bad key %r" % (mbean, key))
        if key in seen:
            raise _fail(where, "%r is not an ObjectName: the key %r appears twice" % (mbean, key))
        seen.add(key)
        if value == "*":
            value = "_"
        elif value.startswith('"'):
            if len(value) < 2 or not value.endswith('"'):
                raise _fail(where, "%r is not an ObjectName: bad quoted value %r" % (mbean, value))
        elif not value or any(c in _VALUE_CHARS_BAD for c in value):
            raise _fail(where, "%r is not an ObjectName: bad value %r for %r (value patterns other than a "
                               "whole '*' cannot be a rules file)" % (mbean, value, key))
        if "/" in value or "\x00" in value or value.startswith(".") or value.endswith("."):
            raise _fail(where, "%r: the value %r cannot be part of a rules file name" % (mbean, value))
        if key == "type":
            type_value = value
        else:
            segments.append(value)
    if type_value is not None:
        segments.insert(1, type_value)
    return segments


def pid_of(mbean: str, where: str = VARIABLE) -> str:
    """The PID (rules file name without .cfg) whose rules apply to ``mbean`` and the MBeans below it."""
    return ".".join([PID_PREFIX] + pid_segments(mbean, where))


# ---------------------------------------------------------------- operation keys

def _check_regex(text: str, where: str, key: str) -> None:
    # Java's syntax is checked by the guard when it loads the file; here the common subset, with Java's
    # \p{...} classes (which Python's re lacks) taken as one character.
    probe = re.sub(r"\\[pP]\{[A-Za-z_=]+\}", ".", text)
    try:
        re.compile(probe)
    except re.error as exc:
        raise _fail(where, "bad regex /%s/ in %r: %s" % (text, key, exc))


def _parse_arguments(body: str, where: str, key: str) -> List[str]:
    """Karaf's argument list: each "literal" or /regex/; a quote or slash closes an argument when only spaces
    and a comma or the end follow it."""
    args: List[str] = []
    i, n = 0, len(body)
    while True:
        while i < n and body[i] == " ":
            i += 1
        if i >= n:
            raise _fail(where, "%r: an argument is missing" % key)
        quote = body[i]
        if quote not in "\"/":
            raise _fail(where, '%r: each argument is "literal" or /regex/' % key)
        j, end = i + 1, -1
        while j < n:
            if body[j] == quote:
                k = j + 1
                while k < n and body[k] == " ":
                    k += 1
                if k >= n or body[k] == ",":
                    end = j
                    break
            j += 1
        if end < 0:
            raise _fail(where, "%r: an argument is not closed by %s" % (key, quote))
        text = body[i + 1:end]
        if quote == "/":
            _check_regex(text, where, key)
        args.append(quote + text + quote)
        i = end + 1
        while i < n and body[i] == " ":
            i += 1
        if i >= n:
            return args
        i += 1


def normalise_operation(key: Any, where: str = VARIABLE) -> str:
    """An operation key in Karaf's grammar, checked; the shorthand ``op(/regex/,"literal")`` (arguments in
    parentheses, any signature) becomes Karaf's ``op[/regex/,"literal"]``."""
    if not isinstance(key, str) or not key.strip():
        raise _fail(where, "an operation key is a non-empty string, got %r" % (key,))
    key = key.strip()
    if "\n" in key or "\r" in key:
        raise _fail(where, "%r: a line break in an operation key" % key)
    paren, bracket = key.find("("), key.find("[")
    if paren < 0 and bracket < 0:
        if "*" in key:
            core = key[1 if key.startswith("*") else 0:]
            core = core[:-1] if core.endswith("*") else core
            if "*" in core or not _WILDCARD_CORE.match(core):
                raise _fail(where, "%r: a wildcard is '*' at the start or the end of an operation name "
                                   "(get*, *Size, *Log*, *)" % key)
            return key
        if not _OP_NAME.match(key):
            raise _fail(where, "%r is not an operation name" % key)
        return key
    cut = paren if paren >= 0 and (bracket < 0 or paren < bracket) else bracket
    name, rest = key[:cut].strip(), key[cut:].strip()
    if not _OP_NAME.match(name):
        raise _fail(where, "%r: %r is not an operation name" % (key, name))
    if rest.startswith("(") and rest.endswith(")") and rest[1:2] in ('"', "/"):
        args = _parse_arguments(rest[1:-1], where, key)
        return "%s[%s]" % (name, ",".join(args))
    signature = None
    if rest.startswith("("):
        close = rest.find(")")
        if close < 0:
            raise _fail(where, "%r: no ')' closes the signature" % key)
        types = [t.strip() for t in rest[1:close].split(",")] if rest[1:close].strip() else []
        for t in types:
            if not _JAVA_TYPE.match(t):
                raise _fail(where, "%r: %r is not a Java type name (signatures list types such as "
                                   "java.lang.String, int, [Ljava.lang.String;)" % (key, t))
        signature = "(%s)" % ",".join(types)
        rest = rest[close + 1:].strip()
    if not rest:
        return name + (signature or "")
    if not (rest.startswith("[") and rest.endswith("]")):
        raise _fail(where, '%r: expected ["literal" or /regex/, ...] after the name or signature' % key)
    args = _parse_arguments(rest[1:-1], where, key)
    return "%s%s[%s]" % (name, signature or "", ",".join(args))


# ---------------------------------------------------------------- rendering

def _escape_key(key: str) -> str:
    """java.util.Properties escaping for a key (what Properties.load reads back as the same key)."""
    out = []
    for ch in key:
        if ch == "\\":
            out.append("\\\\")
        elif ch in " =:#!":
            out.append("\\" + ch)
        elif ord(ch) > 126 or ord(ch) < 32:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def _roles(value: Any, where: str) -> List[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise _fail(where, "a list of role names is required, got %r" % (value,))
    for role in value:
        if not isinstance(role, str) or not _ROLE.match(role):
            raise _fail(where, "%r is not a role name (letters, digits, '_', '.', '-')" % (role,))
    return list(value)


def _mapping(value: Any, where: str, keys: Optional[Sequence[str]] = None) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(where, "a mapping is required, got %r" % (value,))
    if keys is not None:
        unknown = sorted(str(k) for k in value if k not in keys)
        if unknown:
            raise _fail(where, "unknown key(s) %s (known: %s)" % (", ".join(unknown), ", ".join(keys)))
    return value


HEADER = ("# Managed by kafkasec.tls (the JMX guard's rules, Apache Karaf's format); changes here are "
          "overwritten.\n")


def render_rules(spec: Any, variable: str = VARIABLE) -> Dict[str, str]:
    """The guard's rules directory as ``{file name: content}``: ``jmx.users.cfg`` and one
    ``jmx.acl[...].cfg`` per rule. Every problem raises GuardRulesError naming the variable and value."""
    spec = _mapping(spec, variable, TOP_KEYS)
    groups_in = _mapping(spec.get("groups"), variable + ".groups")
    groups: Dict[str, List[str]] = {}
    for name, roles in groups_in.items():
        where = "%s.groups.%s" % (variable, name)
        if not isinstance(name, str) or not _ROLE.match(name):
            raise _fail(variable + ".groups", "%r is not a group name (letters, digits, '_', '.', '-')" % (name,))
        groups[name] = _roles(roles, where)

    users_in = _mapping(spec.get("users"), variable + ".users")
    user_lines = []
    for name, entry in users_in.items():
        where = "%s.users.%s" % (variable, name)
        if not isinstance(name, str) or not _USER.match(name) or name.startswith(GROUP_PREFIX):
            raise _fail(variable + ".users", "%r is not a JMX user name (no spaces, '=', ':', '#', '!', ',' "
                                             "or backslash)" % (name,))
        entry = _mapping(entry, where, USER_KEYS)
        items = []
        user_groups = entry.get("groups") or []
        if isinstance(user_groups, str) or not isinstance(user_groups, (list, tuple)):
            raise _fail(where + ".groups", "a list of group names is required, got %r" % (user_groups,))
        for g in user_groups:
            if g not in groups:
                raise _fail(where + ".groups", "%r is not a group of %s.groups (%s)"
                            % (g, variable, ", ".join(sorted(groups)) or "none defined"))
            items.append(GROUP_PREFIX + g)
        items.extend(_roles(entry.get("roles") or [], where + ".roles"))
        user_lines.append("%s = %s" % (_escape_key(name), ", ".join(items)))
    users_text = HEADER + "# user = _g_:group, role, ...\n" + "".join(line + "\n" for line in user_lines)
    users_text += "".join("%s = %s\n" % (_escape_key(GROUP_PREFIX + g), ", ".join(["group"] + r))
                          for g, r in groups.items())

    rules = spec.get("rules") or []
    if isinstance(rules, (str, Mapping)) or not isinstance(rules, (list, tuple)):
        raise _fail(variable + ".rules", "a list of {mbean, operations} is required, got %r" % (rules,))
    files: Dict[str, str] = {USERS_FILE: users_text}
    owner: Dict[str, str] = {}
    for n, rule in enumerate(rules):
        where = "%s.rules[%d]" % (variable, n)
        rule = _mapping(rule, where, RULE_KEYS)
        if "mbean" not in rule:
            raise _fail(where, "'mbean' (an ObjectName such as kafka.log:type=LogManager) is required")
        pid = pid_of(rule["mbean"], where + ".mbean")
        if pid in owner:
            raise _fail(where + ".mbean", "%r gives the rules file %s.cfg, as %s does: merge the two"
                        % (rule["mbean"], pid, owner[pid]))
        owner[pid] = where
        operations = _mapping(rule.get("operations"), where + ".operations")
        if not operations:
            raise _fail(where + ".operations", "at least one operation key is required")
        lines = []
        seen: Dict[str, Any] = {}
        for key, roles in operations.items():
            op_where = "%s.operations[%r]" % (where, key)
            normal = normalise_operation(key, op_where)
            if normal in seen:
                raise _fail(op_where, "the same rule as %r" % (seen[normal],))
            seen[normal] = key
            lines.append("%s = %s\n" % (_escape_key(normal), ", ".join(_roles(roles, op_where))))
        files[pid + ".cfg"] = HEADER + "# %s\n" % rule["mbean"] + "".join(lines)
    return files


def stale_files(existing: Iterable[str], rendered: Mapping[str, str]) -> List[str]:
    """The guard's files in a rules directory that the rendering no longer has (to remove)."""
    return sorted(name for name in existing
                  if name not in rendered and name.endswith(".cfg")
                  and (name == USERS_FILE or name == PID_PREFIX + ".cfg" or name.startswith(PID_PREFIX + ".")))
