# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exact reader and line-preserving writer for Java ``.properties`` files.

Plain Python, no Ansible imports, so it can be unit tested and reused by other
modules and filters.

Reading follows ``java.util.Properties.load(InputStream)`` (what Kafka's
``Utils.loadProps`` uses) character for character, including its odd corners:

* the stream is decoded as ISO-8859-1, so :meth:`PropertiesDocument.from_bytes`
  decodes bytes as Latin-1 (a UTF-8 file is seen the way Kafka sees it);
* a natural line's leading whitespace (space, tab, form feed) is skipped;
* ``#`` or ``!`` as the first non-blank character of a *new* logical line makes
  a comment; a comment never continues onto the next line, even when it ends
  with a backslash;
* an odd number of trailing backslashes continues the logical line; the
  continuation line's leading whitespace is dropped;
* the key ends at the first unescaped ``=``, ``:`` or whitespace; whitespace,
  then at most one ``=`` or ``:``, then whitespace are skipped before the value;
* escapes: ``\\t \\n \\r \\f \\uXXXX``; any other ``\\c`` is ``c``; a malformed
  ``\\uXXXX`` makes Java throw, so it raises :class:`PropertiesError` here;
* the last occurrence of a key wins.

Writing never re-renders lines it does not own: a document keeps every
physical line, and :meth:`PropertiesDocument.set` replaces only the value part
of the first occurrence of a key, keeping its indentation, key spelling and
separator.
"""

from __future__ import annotations

import bisect
import os

from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import atomic_write

__all__ = [
    "MASK",
    "MergeResult",
    "PropertiesDocument",
    "PropertiesError",
    "escape_key",
    "escape_value",
    "format_entry",
    "is_secret_key",
    "load",
    "merge",
    "merge_bytes",
    "to_java_string",
    "unescape",
    "write_file_atomic",
]

MASK = "********"

_WHITESPACE = " \t\f"
_EOL = "\r\n"
_NAMED_ESCAPES_OUT = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}
_NAMED_ESCAPES_IN = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_HEX = "0123456789abcdefABCDEF"


class PropertiesError(ValueError):
    """The text cannot be read the way Java reads it (e.g. a malformed ``\\uXXXX``)."""


# ---------------------------------------------------------------------------
# Escaping (writing)
# ---------------------------------------------------------------------------

def _unicode_escape(char: str) -> str:
    code = ord(char)
    if code > 0xFFFF:
        # Java strings are UTF-16: a supplementary character is two \u escapes.
        code -= 0x10000
        return "\\u%04X\\u%04X" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))
    return "\\u%04X" % code


def _escape(text: str, *, is_key: bool, store_compatible: bool) -> str:
    out = []
    for index, char in enumerate(text):
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif char in _NAMED_ESCAPES_OUT:
            out.append(_NAMED_ESCAPES_OUT[char])
        elif code < 0x20 or code > 0x7E:
            # Control characters, DEL and everything outside ASCII. Java reads
            # the file as ISO-8859-1, so anything above 0xFF *must* be escaped;
            # escaping all of it keeps the file plain ASCII (and valid UTF-8).
            out.append(_unicode_escape(char))
        elif char == " ":
            out.append("\\ " if (is_key or index == 0) else " ")
        elif char in "=:#!":
            if is_key or store_compatible or index == 0:
                out.append("\\" + char)
            else:
                out.append(char)
        else:
            out.append(char)
    return "".join(out)


def escape_key(key: str) -> str:
    """Escape a key the way ``Properties.store(OutputStream, ...)`` does.

    Spaces, ``=``, ``:``, ``#``, ``!`` and backslashes are escaped wherever they
    appear; tab, newline, carriage return and form feed become ``\\t \\n \\r
    \\f``; other characters outside printable ASCII become ``\\uXXXX``.
    """
    return _escape(to_java_string(key), is_key=True, store_compatible=True)


def escape_value(value: object, *, store_compatible: bool = False) -> str:
    """Escape a value so that ``Properties.load`` reads back exactly ``value``.

    By default the output is the *minimal readable* form: backslashes, a
    leading space and a leading ``= : # !`` are escaped, tab/newline/CR/form
    feed use their named escapes, and every character outside printable ASCII
    is written as ``\\uXXXX`` (surrogate pairs above U+FFFF). ``=``, ``:``,
    ``#`` and ``!`` inside the value stay as they are, so
    ``listeners=SSL://host:9093`` stays readable.

    With ``store_compatible=True`` the output is exactly what
    ``Properties.store(OutputStream, ...)`` writes for the value, which also
    escapes every ``=``, ``:``, ``#`` and ``!``.

    Both forms are read back by Java to the same string.
    """
    return _escape(to_java_string(value), is_key=False, store_compatible=store_compatible)


def format_entry(key: str, value: object) -> str:
    """One ``key=value`` line (without line ending)."""
    return escape_key(key) + "=" + escape_value(value)


def to_java_string(value: object) -> str:
    """Stringify a value the way a Java/Kafka config wants it.

    Booleans become ``true``/``false``, numbers their decimal form, lists and
    tuples are joined with ``,`` (Kafka's list syntax). ``None`` is rejected:
    an unset value is a removal, not an empty string.
    """
    if value is None:
        raise PropertiesError("a properties value cannot be None (use remove to delete a key)")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # A plain str: a subclass (Ansible's unsafe text, on the controller) iterates about ten times slower
        # character by character, which _escape and the parser do.
        return str.__str__(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, bytes):
        raise PropertiesError("a properties value must be text, not bytes")
    if isinstance(value, (list, tuple)):
        return ",".join(to_java_string(item) for item in value)
    if isinstance(value, Mapping):
        raise PropertiesError("a properties value cannot be a mapping")
    return str(value)


# ---------------------------------------------------------------------------
# Unescaping (reading)
# ---------------------------------------------------------------------------

def _join_utf16(chars: List[str]) -> str:
    text = "".join(chars)
    # \uD83D\uDE00 arrive as two surrogates; join them the way a Java String
    # holds them. Lone surrogates (legal in Java) are kept as they are.
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return text


def unescape(raw: str) -> str:
    """``Properties.loadConvert``: resolve the escapes of a key or value."""
    if "\\" not in raw:
        return raw
    out: List[str] = []
    index = 0
    end = len(raw)
    while index < end:
        char = raw[index]
        index += 1
        if char != "\\":
            out.append(char)
            continue
        if index >= end:
            # Cannot happen for text coming from a logical line (a trailing
            # unescaped backslash is a continuation); Java would index past
            # the end. Keep the backslash rather than guess.
            out.append("\\")
            break
        char = raw[index]
        index += 1
        if char == "u":
            digits = raw[index:index + 4]
            if len(digits) < 4 or any(d not in _HEX for d in digits):
                raise PropertiesError("Malformed \\uxxxx encoding in %r" % raw)
            out.append(chr(int(digits, 16)))
            index += 4
        else:
            out.append(_NAMED_ESCAPES_IN.get(char, char))
    return _join_utf16(out)


# ---------------------------------------------------------------------------
# The LineReader of java.util.Properties, ported
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _LogicalLine:
    first: int   # index of the first character of the logical line
    end: int     # index just past the character that ended it
    chars: str   # the logical line (continuations joined), still escaped
    # index in ``text`` of each character of ``chars``
    positions: Tuple[int, ...]


def _read_logical_lines(text: str) -> Iterator[_LogicalLine]:
    """Port of ``Properties.LineReader.readLine`` over a whole string."""
    size = len(text)
    off = 0
    while True:
        buf: List[str] = []
        pos: List[int] = []
        skip_ws = True
        appended_begin = False
        preceding_backslash = False
        while True:
            if off >= size:
                if not buf:
                    return
                length = len(buf) - 1 if preceding_backslash else len(buf)
                yield _LogicalLine(pos[0], off, "".join(buf[:length]), tuple(pos[:length]))
                return
            char = text[off]
            off += 1
            if skip_ws:
                if char in _WHITESPACE:
                    continue
                if not appended_begin and char in _EOL:
                    continue
                skip_ws = False
                appended_begin = False
            if not buf and char in "#!":
                # A comment: consume through the first CR or LF.
                while off < size and text[off] not in _EOL:
                    off += 1
                if off >= size:
                    return
                off += 1
                skip_ws = True
                continue
            if char not in _EOL:
                buf.append(char)
                pos.append(off - 1)
                preceding_backslash = (not preceding_backslash) if char == "\\" else False
                continue
            # end of a natural line
            if not buf:
                skip_ws = True
                continue
            if off >= size:
                length = len(buf) - 1 if preceding_backslash else len(buf)
                yield _LogicalLine(pos[0], off, "".join(buf[:length]), tuple(pos[:length]))
                return
            if preceding_backslash:
                buf.pop()
                pos.pop()
                skip_ws = True
                appended_begin = True
                preceding_backslash = False
                if char == "\r" and text[off] == "\n":
                    off += 1
                continue
            yield _LogicalLine(pos[0], off, "".join(buf), tuple(pos))
            break


def _split_key_value(chars: str) -> Tuple[int, int]:
    """``Properties.load0``: return (key_length, value_start) of a logical line."""
    limit = len(chars)
    key_len = 0
    value_start = limit
    has_sep = False
    preceding_backslash = False
    while key_len < limit:
        char = chars[key_len]
        if char in "=:" and not preceding_backslash:
            value_start = key_len + 1
            has_sep = True
            break
        if char in _WHITESPACE and not preceding_backslash:
            value_start = key_len + 1
            break
        preceding_backslash = (not preceding_backslash) if char == "\\" else False
        key_len += 1
    while value_start < limit:
        char = chars[value_start]
        if char not in _WHITESPACE:
            if not has_sep and char in "=:":
                has_sep = True
            else:
                break
        value_start += 1
    return key_len, value_start


def _physical_lines(text: str) -> List[Tuple[int, int]]:
    """(start, end) of each physical line, the end including its CR, LF or CRLF."""
    lines = []
    start = 0
    index = 0
    size = len(text)
    while index < size:
        char = text[index]
        if char == "\n" or char == "\r":
            index += 2 if (char == "\r" and index + 1 < size and text[index + 1] == "\n") else 1
            lines.append((start, index))
            start = index
        else:
            index += 1
    if start < size:
        lines.append((start, size))
    return lines


def _line_ending(line: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    if line.endswith("\n") or line.endswith("\r"):
        return line[-1]
    return ""


# ---------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------

@dataclass
class _Node:
    """One or more physical lines of the original text (or a line we wrote)."""

    text: str
    key: Optional[str] = None      # None: comment, blank line or ignored line
    value: Optional[str] = None
    # Everything up to where the value starts (indentation, key, separator),
    # when it sits on the node's first physical line; None otherwise.
    prefix: Optional[str] = None

    @property
    def is_entry(self) -> bool:
        return self.key is not None

    @property
    def eol(self) -> str:
        return _line_ending(self.text)


class PropertiesDocument:
    """A ``.properties`` file as a list of lines that knows its keys."""

    def __init__(self, nodes: Optional[List[_Node]] = None, newline: str = "\n") -> None:
        self._nodes: List[_Node] = list(nodes or [])
        self.newline = newline

    # -- reading ------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> "PropertiesDocument":
        """Parse text exactly as ``Properties.load`` reads it.

        ``text`` is the file decoded as ISO-8859-1 (see :meth:`from_bytes`).
        Raises :class:`PropertiesError` where Java would throw.
        """
        if isinstance(text, str):
            text = str.__str__(text)  # a plain str (see to_java_string)
        lines = _physical_lines(text)
        starts = [span[0] for span in lines]
        nodes: List[_Node] = []
        newline = "\n"
        for start, end in lines:
            eol = _line_ending(text[start:end])
            if eol:
                newline = eol
                break

        def line_index(offset: int) -> int:
            """The physical line holding text[offset]."""
            return bisect.bisect_right(starts, offset) - 1

        next_line = 0
        for logical in _read_logical_lines(text):
            first_line = line_index(logical.first)
            last_line = line_index(max(logical.end - 1, logical.first))
            for index in range(next_line, first_line):
                nodes.append(_Node(text[lines[index][0]:lines[index][1]]))
            node_start = lines[first_line][0]
            node_end = lines[last_line][1]
            key_len, value_start = _split_key_value(logical.chars)
            key = unescape(logical.chars[:key_len])
            value = unescape(logical.chars[value_start:])
            prefix = _value_prefix(text, node_start, lines[first_line][1], logical, key_len, value_start)
            nodes.append(_Node(text[node_start:node_end], key, value, prefix))
            next_line = last_line + 1
        for index in range(next_line, len(lines)):
            nodes.append(_Node(text[lines[index][0]:lines[index][1]]))
        return cls(nodes, newline)

    @classmethod
    def from_bytes(cls, data: bytes) -> "PropertiesDocument":
        """Parse file content the way ``Properties.load(InputStream)`` does (ISO-8859-1)."""
        return cls.parse(data.decode("latin-1"))

    # -- queries ------------------------------------------------------------

    def _entries(self) -> Iterator[_Node]:
        return (node for node in self._nodes if node.is_entry)

    def get(self, key: str, default: Optional[str] = None) -> Optional[str]:
        """The value Java sees for ``key`` (the last occurrence wins)."""
        value = default
        for node in self._entries():
            if node.key == key:
                value = node.value
        return value

    def __contains__(self, key: object) -> bool:
        return any(node.key == key for node in self._entries())

    def keys(self) -> List[str]:
        """Distinct keys in order of first appearance."""
        seen: Dict[str, None] = {}
        for node in self._entries():
            seen.setdefault(node.key, None)  # type: ignore[arg-type]
        return list(seen)

    def as_dict(self) -> Dict[str, str]:
        """What ``Properties.load`` would hold: every key with its effective value."""
        result: Dict[str, str] = {}
        for node in self._entries():
            result[node.key] = node.value  # type: ignore[index]
        return result

    def occurrences(self, key: str) -> int:
        return sum(1 for node in self._entries() if node.key == key)

    # -- rendering ----------------------------------------------------------

    def render(self) -> str:
        return "".join(node.text for node in self._nodes)

    def to_bytes(self) -> bytes:
        """The file content: ISO-8859-1, so untouched lines keep their exact bytes."""
        return self.render().encode("latin-1")

    def render_masked(self, is_secret: Callable[[str], bool], mask: str = MASK) -> str:
        """Render with the value of every key for which ``is_secret(key)`` is true masked."""
        out = []
        for node in self._nodes:
            if node.is_entry and is_secret(node.key):  # type: ignore[arg-type]
                prefix = node.prefix if node.prefix is not None else escape_key(node.key) + "="  # type: ignore[arg-type]
                out.append(prefix + (mask if node.value else "") + node.eol)
            else:
                out.append(node.text)
        return "".join(out)

    # -- changes ------------------------------------------------------------

    def set(self, key: str, value: object, *, header: Optional[str] = None) -> str:
        """Give ``key`` the value ``value``.

        The first occurrence is rewritten in place (only when its parsed value
        differs), later duplicates are removed, a new key is appended at the
        end, or below the comment line ``header`` when given.

        Returns ``"added"``, ``"updated"`` or ``"unchanged"``.
        """
        value = to_java_string(value)
        indexes = [i for i, node in enumerate(self._nodes) if node.key == key]
        if not indexes:
            self._append(_Node(format_entry(key, value) + self.newline, key, value, escape_key(key) + "="), header)
            return "added"
        changed = False
        first = self._nodes[indexes[0]]
        if first.value != value:
            prefix = first.prefix if first.prefix is not None else escape_key(key) + "="
            first.text = prefix + escape_value(value) + (first.eol or "")
            first.value = value
            first.prefix = prefix
            changed = True
        for index in reversed(indexes[1:]):
            self._delete(index)
            changed = True
        return "updated" if changed else "unchanged"

    def remove(self, key: str) -> bool:
        """Remove every occurrence of ``key``; True if there was one."""
        indexes = [i for i, node in enumerate(self._nodes) if node.key == key]
        for index in reversed(indexes):
            self._delete(index)
        return bool(indexes)

    def _delete(self, index: int) -> None:
        node = self._nodes[index]
        previous = self._nodes[index - 1] if index > 0 else None
        if previous is not None and not previous.is_entry and _is_lone_backslash(previous.text):
            # The line before is a lone "\\": Java continues it into the next
            # line. Leave a blank line so it does not start continuing
            # something else (at EOF it would become the entry "" = "").
            self._nodes[index] = _Node(node.eol or self.newline)
        else:
            del self._nodes[index]

    def _ensure_trailing_newline(self) -> None:
        if self._nodes and not self._nodes[-1].eol:
            self._nodes[-1].text += self.newline

    def _open_tail(self) -> bool:
        """True when the last line is an entry continued (by a backslash) into EOF.

        A line appended after it would be swallowed as its continuation, so new
        lines go before it instead.
        """
        if not self._nodes or not self._nodes[-1].is_entry:
            return False
        last = self._nodes[-1]
        body = last.text[: len(last.text) - len(last.eol)]
        body = body[max(body.rfind("\n"), body.rfind("\r")) + 1:]
        return (len(body) - len(body.rstrip("\\"))) % 2 == 1

    def _insert_at_end(self, nodes: Sequence[_Node]) -> None:
        if self._open_tail():
            position = len(self._nodes) - 1
        else:
            self._ensure_trailing_newline()
            position = len(self._nodes)
        self._nodes[position:position] = list(nodes)

    def _append(self, node: _Node, header: Optional[str]) -> None:
        if header is None:
            self._insert_at_end([node])
            return
        header_line = header if header[:1] in ("#", "!") else "# " + header
        for index, existing in enumerate(self._nodes):
            if not existing.is_entry and existing.text.strip(_WHITESPACE + _EOL) == header_line.strip():
                position = index + 1
                while position < len(self._nodes) and self._nodes[position].is_entry:
                    position += 1
                if position == len(self._nodes):
                    self._insert_at_end([node])
                else:
                    self._nodes.insert(position, node)
                return
        block = [_Node(header_line + self.newline), node]
        tail_index = len(self._nodes) - 1 if self._open_tail() else len(self._nodes)
        before = self._nodes[tail_index - 1] if tail_index > 0 else None
        if before is not None and before.text.strip(_WHITESPACE + _EOL):
            block.insert(0, _Node(self.newline))
        self._insert_at_end(block)


def _is_lone_backslash(line: str) -> bool:
    return line.rstrip(_EOL).strip(_WHITESPACE) == "\\"


def _value_prefix(text: str, node_start: int, first_line_end: int, logical: _LogicalLine,
                  key_len: int, value_start: int) -> Optional[str]:
    """The raw text before the value (indentation, key, separator), if on the first line.

    Rewriting a value keeps this prefix so the line keeps its spelling.
    """
    positions = logical.positions
    if value_start < len(positions):
        value_pos = positions[value_start]
        return text[node_start:value_pos] if value_pos < first_line_end else None
    # Empty value: the prefix is the whole logical line, if on one physical line.
    if positions and positions[-1] >= first_line_end:
        return None
    last = positions[-1] + 1 if positions else logical.first
    prefix = text[node_start:last]
    if key_len == value_start:
        prefix += "="  # "key" alone, without any separator
    return prefix


def load(text: str) -> Dict[str, str]:
    """``Properties.load`` in one call: the effective key/value pairs."""
    return PropertiesDocument.parse(text).as_dict()


# ---------------------------------------------------------------------------
# Merge
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class MergeResult:
    """Outcome of :func:`merge`. Carries key names only, never values."""

    text: str
    changed_keys: List[str]
    added: List[str]
    updated: List[str]
    removed: List[str]
    document: Optional[PropertiesDocument] = field(default=None, compare=False, repr=False)
    original: Optional[PropertiesDocument] = field(default=None, compare=False, repr=False)

    @property
    def changed(self) -> bool:
        return bool(self.changed_keys)


def _merge_document(
    document: PropertiesDocument,
    set_values: Optional[Mapping[str, object]],
    remove_keys: Optional[Sequence[str]],
    header: Optional[str],
) -> Tuple[List[str], List[str], List[str]]:
    set_values = dict(set_values or {})
    remove_list = list(remove_keys or [])
    both = sorted(set(set_values) & set(remove_list))
    if both:
        raise PropertiesError("keys both set and removed: %s" % ", ".join(both))
    added: List[str] = []
    updated: List[str] = []
    removed: List[str] = []
    for key, value in set_values.items():
        outcome = document.set(key, value, header=header)
        if outcome == "added":
            added.append(key)
        elif outcome == "updated":
            updated.append(key)
    for key in dict.fromkeys(remove_list):
        if document.remove(key):
            removed.append(key)
    return added, updated, removed


def merge(
    text: str,
    set: Optional[Mapping[str, object]] = None,  # noqa: A002 - the API speaks of "set"
    remove: Optional[Iterable[str]] = None,
    *,
    header: Optional[str] = None,
) -> MergeResult:
    """Set and remove keys in the properties ``text``; touch no other line.

    ``changed_keys`` lists added, then updated, then removed keys. A key whose
    parsed value already equals the wanted one is left untouched (its line is
    not rewritten even if spelled differently, e.g. with escapes).
    """
    original = PropertiesDocument.parse(text)
    document = PropertiesDocument.parse(text)
    remove_keys = list(remove or [])
    added, updated, removed = _merge_document(document, set, remove_keys, header)
    merged = document.render()
    # Safety net: what Java will read back must be exactly the old content
    # with the requested changes, and nothing else.
    expected = original.as_dict()
    expected.update((key, to_java_string(value)) for key, value in (set or {}).items())
    for key in remove_keys:
        expected.pop(key, None)
    if PropertiesDocument.parse(merged).as_dict() != expected:
        raise PropertiesError("refusing to write: the merged file would not read back as intended")
    return MergeResult(merged, added + updated + removed, added, updated, removed, document, original)


def merge_bytes(
    data: bytes,
    set: Optional[Mapping[str, object]] = None,  # noqa: A002
    remove: Optional[Iterable[str]] = None,
    *,
    header: Optional[str] = None,
) -> Tuple[bytes, MergeResult]:
    """:func:`merge` on file content (ISO-8859-1, as Java reads it)."""
    result = merge(data.decode("latin-1"), set, remove, header=header)
    return result.text.encode("latin-1"), result


# ---------------------------------------------------------------------------
# Secrets and files
# ---------------------------------------------------------------------------

_SECRET_SUBSTRINGS = ("password", "secret")
_SECRET_SUFFIXES = (".jaas.config",)
_SECRET_KEYS = frozenset(("ssl.keystore.key",))  # a PEM private key held inline


def is_secret_key(key: str, extra: Iterable[str] = ()) -> bool:
    """True for keys whose values must never be shown.

    Any key containing ``password`` or ``secret`` (case-insensitive), ending in
    ``.jaas.config``, the inline PEM key ``ssl.keystore.key``, and the keys in
    ``extra``.
    """
    lowered = key.lower()
    if key in extra or key in _SECRET_KEYS:
        return True
    if any(part in lowered for part in _SECRET_SUBSTRINGS):
        return True
    return lowered.endswith(_SECRET_SUFFIXES)


def write_file_atomic(path: str, data: bytes, *, like: Optional[os.stat_result] = None) -> None:
    """Replace ``path`` with ``data`` atomically, keeping the mode and owner of ``like``."""
    atomic_write(path, data, like=like)
