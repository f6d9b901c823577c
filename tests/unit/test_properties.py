# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/config/properties.py against the real java.util.Properties.

Every reading test compares with what Java 17 reads from the same bytes
(tests/unit/java/PropsDump.java, Properties.load(InputStream) as Kafka's
Utils.loadProps does); every writing test has Java read the written file back.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import shutil
import stat
import subprocess
import tempfile
import uuid

from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.config import properties as P

JAVA_DIR = Path(__file__).resolve().parent / "java"


# ---------------------------------------------------------------------------
# Java helpers (also used by test_filters.py and test_properties_module.py)
# ---------------------------------------------------------------------------

_CLASSES: List[str] = []


def java_classes() -> str:
    """The check programs compiled once per test process (a source launch compiles on every run)."""
    if not _CLASSES:
        target = tempfile.mkdtemp(prefix="kafkasec-java-")
        atexit.register(shutil.rmtree, target, True)
        subprocess.run(["javac", "-nowarn", "-d", target, str(JAVA_DIR / "PropsDump.java"), str(JAVA_DIR / "JaasDump.java")],
                       check=True, capture_output=True, timeout=600)
        _CLASSES.append(target)
    return _CLASSES[0]


def run_java(main_class: str, args: Sequence[str], classpath: Sequence[str] = ()) -> str:
    """Run one of the compiled check programs; fail the test with Java's output if it fails."""
    command = ["java", "-cp", os.pathsep.join([java_classes()] + list(classpath)), main_class] + list(args)
    proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if proc.returncode != 0:
        raise AssertionError("%s failed (%s):\n%s\n%s" % (" ".join(command), proc.returncode, proc.stdout, proc.stderr))
    return proc.stdout


def java_load(paths: Sequence[Path]) -> List[Dict]:
    """What Properties.load(InputStream) makes of each file: {"ok": {...}} or {"error": "..."}."""
    if not paths:
        return []
    out = run_java("PropsDump", [str(p) for p in paths])
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == len(paths)
    return results


def java_load_bytes(tmp_path: Path, contents: Sequence[bytes]) -> List[Dict]:
    paths = []
    for data in contents:
        path = tmp_path / ("%s.properties" % uuid.uuid4().hex)
        path.write_bytes(data)
        paths.append(path)
    return java_load(paths)


def java_load_text(tmp_path: Path, text: str) -> Dict[str, str]:
    """Java's view of one file written from ``text`` (ISO-8859-1, as the module writes)."""
    result = java_load_bytes(tmp_path, [text.encode("latin-1")])[0]
    assert "ok" in result, result
    return result["ok"]


def _utf16_hex(text: str) -> str:
    return text.encode("utf-16-be", "surrogatepass").hex()


def java_store_lines(tmp_path: Path, pairs: Sequence[Tuple[str, str]]) -> List[str]:
    """The line Properties.store(OutputStream) writes for each (key, value)."""
    source = tmp_path / "store-input.txt"
    source.write_text("".join("%s\t%s\n" % (_utf16_hex(k), _utf16_hex(v)) for k, v in pairs), encoding="ascii")
    out = run_java("PropsDump", ["--store", str(source)])
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == len(pairs)
    return lines


# ---------------------------------------------------------------------------
# Values that make escaping hard
# ---------------------------------------------------------------------------

AWKWARD_VALUES = {
    "plain": "value",
    "empty": "",
    "leading.space": " lead",
    "leading.spaces": "   three",
    "only.spaces": "   ",
    "trailing.space": "trail ",
    "leading.tab": "\tx",
    "leading.formfeed": "\fx",
    "equals": "a=b==c",
    "leading.equals": "=x",
    "leading.colon": ":x",
    "colons": "SSL://kafka-1.lab.test:9093,SASL_SSL://[::1]:9094",
    "hash": "#not a comment",
    "bang": "!not a comment",
    "inner.hash": "a#b!c",
    "backslash": "C:\\path\\to\\store.p12",
    "trailing.backslash": "ends with \\",
    "double.backslash": "\\\\",
    "unicode.escape.text": "\\u0041 is not A",
    "newline": "line1\nline2",
    "crlf": "a\r\nb",
    "cr": "a\rb",
    "control": "nul\x00bel\x07del\x7f",
    "latin1": "caf\u00e9 \u00fc\u00df \u00ff",
    "c1": "\x85\x9f",
    "bmp": "\u20ac \u4e2d\u6587 \u2603",
    "astral": "\U0001F600 \U0001D11E",
    "quotes": "'single' \"double\"",
    "principal.rules": "RULE:^CN=([^,]+),.*$/$1/,DEFAULT",
    "super.users": "User:CN=admin,O=x;User:kafka",
    "jaas": 'org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="p\\"w";',
    "brace": "${file:/etc/secret.properties:pw}",
    "spaces.inside": "a  b\t c",
}

AWKWARD_KEYS = {
    "key with spaces": "1",
    "key=with=equals": "2",
    "key:colon": "3",
    "#hash.key": "4",
    "!bang.key": "5",
    "k\u00e9y": "6",
    "k\u20acy": "7",
    "": "empty key",
    " leading.space.key": "8",
    "tab\tkey": "9",
    "back\\slash": "10",
    "new\nline": "11",
}


# ---------------------------------------------------------------------------
# Reading: hand-picked corner cases, compared with Java
# ---------------------------------------------------------------------------

READ_CASES = {
    "separators": b"a=1\nb:2\nc 3\nd\t4\ne\f5\nf = 6\ng : 7\nh   8\n",
    "whitespace then separator": b"a  = 1\nb \t: 2\nc =  = 3\nd::4\n",
    "no separator": b"alone\n  indented\nkey\\ with\\ space\n",
    "escaped separators in key": b"a\\=b=1\nc\\:d:2\ne\\ f 3\ng\\\\=4\n",
    "continuation": b"a=one \\\n    two \\\n\tthree\nb=x\n",
    "continuation into key": b"ke\\\n  y=value\n",
    "even backslashes do not continue": b"a=x\\\\\nb=y\n",
    "odd backslashes continue": b"a=x\\\\\\\nb=y\n",
    "comment ending in backslash does not continue": b"# note \\\na=1\n! other \\\nb=2\n",
    "indented comments": b"   # c\n\t! c\n\f#c\na=1\n",
    "hash inside continuation is data": b"a=1\\\n#2\n",
    "blank continuation line ends it": b"a=1\\\n   \nb=2\n",
    "crlf": b"a=1\r\nb=2\\\r\n  3\r\n",
    "cr only": b"a=1\rb=2\\\r 3\rc=4",
    "no trailing newline": b"a=1\nb=2",
    "continuation at EOF": b"a=1\\",
    "continuation then newline at EOF": b"a=1\\\n",
    "lone backslash at EOF": b"a=1\n\\",
    "lone backslash newline at EOF": b"a=1\n\\\n",
    "lone backslash CRLF at EOF": b"a=1\n\\\r\n",
    "lone backslash then comment": b"\\\n# comment\na=1\n",
    "lone backslash then data": b"\\\n  b=2\n",
    "escapes": b"a=\\t\\n\\r\\f\\b\\q\\\\\nb=\\u0041\\u00e9\\u20AC\nc=\\uD83D\\uDE00\nd=\\uD800\n",
    "unicode escape in key": b"\\u0041key=1\n",
    "malformed unicode": b"a=\\u12\n",
    "malformed unicode hex": b"a=\\u12G4\n",
    "malformed unicode in comment is fine": b"# \\u12\na=1\n",
    "latin-1 bytes": b"caf\xe9=\xfc\xff\n",
    "utf-8 bytes are read as latin-1": "wörd=€".encode("utf-8") + b"\n",
    "duplicates, last wins": b"a=1\nb=2\na=3\n",
    "empty key and value": b"=\n:x\n = y\n",
    "value keeps trailing spaces": b"a=1   \nb=   \n",
    "value leading escaped space": b"a=\\ 1\nb=\\  2\n",
    "empty file": b"",
    "only comments": b"# a\n! b\n\n",
    "whitespace only lines": b"  \n\t\n\f\n",
    "nul and high bytes": b"a=\x00\x80\xa0\n",
}


@pytest.fixture(scope="module")
def java_read_cases(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("read-cases")
    names = list(READ_CASES)
    return dict(zip(names, java_load_bytes(tmp, [READ_CASES[n] for n in names])))


@pytest.mark.parametrize("name", list(READ_CASES))
def test_parse_matches_java(name, java_read_cases):
    data = READ_CASES[name]
    java = java_read_cases[name]
    try:
        python = {"ok": P.PropertiesDocument.from_bytes(data).as_dict()}
    except P.PropertiesError:
        python = {"error": "PropertiesError"}
    assert ("ok" in python) == ("ok" in java), (python, java)
    if "ok" in java:
        assert python["ok"] == java["ok"]
        # parsing keeps every byte
        assert P.PropertiesDocument.from_bytes(data).to_bytes() == data


def test_java_quirks_are_what_we_think(java_read_cases):
    """Pin down the surprising corners, so a JDK change would show up here."""
    assert java_read_cases["lone backslash at EOF"]["ok"] == {"a": "1", "": ""}
    assert java_read_cases["lone backslash newline at EOF"]["ok"] == {"a": "1", "": ""}
    assert java_read_cases["lone backslash CRLF at EOF"]["ok"] == {"a": "1"}
    assert java_read_cases["comment ending in backslash does not continue"]["ok"] == {"a": "1", "b": "2"}
    assert java_read_cases["hash inside continuation is data"]["ok"] == {"a": "1#2"}
    assert java_read_cases["utf-8 bytes are read as latin-1"]["ok"] == {"w\u00c3\u00b6rd": "\u00e2\u0082\u00ac"}
    assert java_read_cases["whitespace then separator"]["ok"]["c"] == "= 3"
    assert java_read_cases["escapes"]["ok"]["a"] == "\t\n\r\fbq\\"
    assert "error" in java_read_cases["malformed unicode"]


FUZZ_ALPHABET = [" ", "\t", "\f", "\\", "\\", "\n", "\r", "\r\n", "=", ":", "#", "!", "a", "b", "u", "0", "F",
                 "\u00e9", "\\u0041", "\\u00", "n", "t", "\\\n", "\\\r\n"]


def _random_text(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(FUZZ_ALPHABET) for _ in range(rng.randint(0, size)))


def test_parse_matches_java_on_random_input(tmp_path):
    rng = random.Random(20240607)
    texts = [_random_text(rng, 40) for _ in range(1500)]
    javas = java_load_bytes(tmp_path, [t.encode("latin-1") for t in texts])
    for text, java in zip(texts, javas):
        try:
            doc = P.PropertiesDocument.parse(text)
        except P.PropertiesError:
            assert "error" in java, (text, java)
            continue
        assert java.get("ok") == doc.as_dict(), text
        assert doc.render() == text


# ---------------------------------------------------------------------------
# Writing: Java reads back exactly what was meant
# ---------------------------------------------------------------------------

def test_escaped_values_read_back_exactly(tmp_path):
    text = "".join(P.format_entry(k, v) + "\n" for k, v in AWKWARD_VALUES.items())
    assert text.isascii()
    assert java_load_text(tmp_path, text) == AWKWARD_VALUES


def test_escaped_keys_read_back_exactly(tmp_path):
    text = "".join(P.format_entry(k, v) + "\n" for k, v in AWKWARD_KEYS.items())
    assert java_load_text(tmp_path, text) == AWKWARD_KEYS


def test_store_compatible_escaping_is_what_java_store_writes(tmp_path):
    pairs = [(k, v) for k, v in AWKWARD_VALUES.items()] + [(k, "v") for k in AWKWARD_KEYS]
    lines = java_store_lines(tmp_path, pairs)
    for (key, value), line in zip(pairs, lines):
        assert P.escape_key(key) + "=" + P.escape_value(value, store_compatible=True) == line, (key, value)


def test_minimal_escaping_keeps_kafka_values_readable():
    assert P.escape_value("SSL://kafka-1.lab.test:9093") == "SSL://kafka-1.lab.test:9093"
    assert P.escape_value("RULE:^CN=([^,]+),.*$/$1/,DEFAULT") == "RULE:^CN=([^,]+),.*$/$1/,DEFAULT"
    assert P.escape_value(" x") == "\\ x"
    assert P.escape_value("=x") == "\\=x"
    assert P.escape_value("C:\\x") == "C:\\\\x"
    assert P.escape_value("\u00e9\U0001F600") == "\\u00E9\\uD83D\\uDE00"
    assert P.escape_value(True) == "true"
    assert P.escape_value(["TLSv1.3", "TLSv1.2"]) == "TLSv1.3,TLSv1.2"
    assert P.escape_key("a b") == "a\\ b"


def test_merge_writes_awkward_values_into_an_existing_file(tmp_path):
    original = (
        "# Kafka broker\n"
        "broker.id=1\n"
        "plain = old\n"
        "equals:old\n"
        "leading.space old\n"
        "  hash.kept=old\n"
        "backslash=old\\\n"
        "    continued\n"
        "! keep me\n"
        "untouched=\\u00e9\\\\x\n"
    )
    wanted = dict(AWKWARD_VALUES)
    result = P.merge(original, wanted, [])
    read = java_load_text(tmp_path, result.text)
    expected = {"broker.id": "1", "untouched": "\u00e9\\x", "hash.kept": "old"}
    expected.update(wanted)
    assert read == expected
    # lines of keys that were not set are byte for byte the same
    for line in ("# Kafka broker\n", "broker.id=1\n", "  hash.kept=old\n", "! keep me\n", "untouched=\\u00e9\\\\x\n"):
        assert line in result.text
    # updated in place, keeping the separator spelling
    assert "plain = value\n" in result.text
    assert "equals:a=b==c\n" in result.text
    assert "leading.space \\ lead\n" in result.text
    assert "backslash=C:\\\\path\\\\to\\\\store.p12\n" in result.text
    assert "    continued" not in result.text
    assert sorted(result.updated) == ["backslash", "equals", "leading.space", "plain"]
    assert set(result.added) == set(wanted) - set(result.updated)
    again = P.merge(result.text, wanted, [])
    assert not again.changed and again.text == result.text


def test_merge_on_random_files_reads_back_as_intended(tmp_path):
    rng = random.Random(77)
    value_chars = [" ", "\t", "\\", "\n", "\r", "=", ":", "#", "!", "a", "\u00e9", "\u20ac", "\U0001F600", "\x00", '"']
    keys = ["a", "b", "ab", "a b", "a=b", "#a", "!", "", " ", "\u00e9", "\u20ack"]
    cases = []
    while len(cases) < 500:
        text = _random_text(rng, 40)
        try:
            base = P.load(text)
        except P.PropertiesError:
            continue
        wanted = {}
        for _ in range(rng.randint(0, 3)):
            key = rng.choice(keys + list(base)[:3])
            wanted[key] = "".join(rng.choice(value_chars) for _ in range(rng.randint(0, 6)))
        removed = [k for k in keys + list(base) if k not in wanted and rng.random() < 0.15]
        header = rng.choice([None, "managed by kafkasec.tls"])
        result = P.merge(text, wanted, removed, header=header)
        expected = dict(base)
        expected.update(wanted)
        for key in removed:
            expected.pop(key, None)
        again = P.merge(result.text, wanted, removed, header=header)
        assert again.text == result.text and not again.changed, (text, wanted, removed)
        cases.append((result.text, expected))
    javas = java_load_bytes(tmp_path, [t.encode("latin-1") for t, _ in cases])
    for (text, expected), java in zip(cases, javas):
        assert java.get("ok") == expected, text


# ---------------------------------------------------------------------------
# Line-preserving edits
# ---------------------------------------------------------------------------

SERVER = (
    "# Licensed to the Apache Software Foundation (ASF)\n"
    "\n"
    "############################# Server Basics #############################\n"
    "process.roles=broker,controller\n"
    "node.id=1\n"
    "\n"
    "# The address the socket server listens on.\n"
    "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n"
    "  num.network.threads = 3\n"
    "log.dirs=/tmp/kraft-combined-logs\n"
    "listeners=PLAINTEXT://:9092\n"
)


def test_set_replaces_first_occurrence_and_drops_duplicates():
    doc = P.PropertiesDocument.parse(SERVER)
    assert doc.get("listeners") == "PLAINTEXT://:9092"
    assert doc.occurrences("listeners") == 2
    assert doc.set("listeners", "SSL://:9094") == "updated"
    text = doc.render()
    assert text == SERVER.replace("listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n", "listeners=SSL://:9094\n") \
        .replace("listeners=PLAINTEXT://:9092\n", "")
    assert doc.occurrences("listeners") == 1


def test_duplicate_with_same_first_value_is_still_cleaned_up():
    doc = P.PropertiesDocument.parse("a=1\nb=2\na=3\n")
    assert doc.get("a") == "3"
    assert doc.set("a", "1") == "updated"
    assert doc.render() == "a=1\nb=2\n"


def test_unchanged_value_is_not_rewritten_even_if_spelled_differently():
    text = "a = \\u0041\nb:\\ x\nc   true\n"
    result = P.merge(text, {"a": "A", "b": " x", "c": True}, [])
    assert not result.changed
    assert result.text == text


def test_indentation_key_spelling_and_separator_are_kept():
    result = P.merge(SERVER, {"num.network.threads": 8}, [])
    assert "  num.network.threads = 8\n" in result.text
    assert result.text.replace("  num.network.threads = 8\n", "  num.network.threads = 3\n") == SERVER
    result = P.merge("k\\u0065y\tv\nkey2\n", {"key": "w", "key2": "x"}, [])
    assert result.text == "k\\u0065y\tw\nkey2=x\n"


def test_new_keys_are_appended_and_header_is_reused():
    result = P.merge(SERVER, {"ssl.client.auth": "required", "ssl.keystore.type": "PKCS12"}, [],
                     header="Managed by kafkasec.tls")
    assert result.text == SERVER + "\n# Managed by kafkasec.tls\nssl.client.auth=required\nssl.keystore.type=PKCS12\n"
    tail = "\n# Managed by kafkasec.tls\nssl.client.auth=required\n\n# other\nx=1\n"
    result = P.merge("a=1\n" + tail, {"ssl.keystore.type": "PKCS12"}, [], header="Managed by kafkasec.tls")
    assert result.text == "a=1\n\n# Managed by kafkasec.tls\nssl.client.auth=required\nssl.keystore.type=PKCS12\n" \
        "\n# other\nx=1\n"
    assert P.merge("", {"a": "1"}, [], header="h").text == "# h\na=1\n"


def test_line_endings_and_missing_final_newline():
    assert P.merge("a=1\r\nb=2\r\n", {"c": "3", "a": "0"}, []).text == "a=0\r\nb=2\r\nc=3\r\n"
    assert P.merge("a=1", {"b": "2"}, []).text == "a=1\nb=2\n"
    assert P.merge("a=1", {"a": "2"}, []).text == "a=2"
    assert P.merge("a=1\rb=2", {"c": "3"}, []).text == "a=1\rb=2\rc=3\r"


def test_appending_after_a_line_continued_into_eof(tmp_path):
    # "a=1\\" at EOF: a line appended after it would be swallowed as its continuation.
    texts = ["a=1\\", "a=1\\\n", "a=1\\\r\n", "x=0\n\\"]
    merged = [P.merge(text, {"b": "2"}, []).text for text in texts]
    javas = java_load_bytes(tmp_path, [m.encode("latin-1") for m in merged])
    for text, java in zip(texts, javas):
        assert java == {"ok": dict(P.load(text), b="2")}, text


def test_check_program_runs_as_a_single_file_source(tmp_path):
    """The documented way to run the check by hand: java PropsDump.java FILE."""
    path = tmp_path / "x.properties"
    path.write_bytes(b"a=\\u00e9\n")
    proc = subprocess.run(["java", str(JAVA_DIR / "PropsDump.java"), str(path)],
                          capture_output=True, text=True, check=True, timeout=600)
    assert json.loads(proc.stdout) == {"ok": {"a": "\u00e9"}}


def test_remove():
    result = P.merge(SERVER, {}, ["listeners", "absent"])
    assert result.removed == ["listeners"] and result.changed_keys == ["listeners"]
    assert "listeners" not in result.text
    assert P.PropertiesDocument.parse(result.text).as_dict() == {
        "process.roles": "broker,controller", "node.id": "1", "num.network.threads": "3",
        "log.dirs": "/tmp/kraft-combined-logs"}
    multi = "a=1\\\n  2\nb=3\n"
    assert P.merge(multi, {}, ["a"]).text == "b=3\n"


def test_remove_after_a_lone_backslash_line_keeps_meaning(tmp_path):
    text = "\\\n:0\\\n#x\n"          # the lone "\" continues into ":0#x" (key "", value "0#x")
    result = P.merge(text, {}, [""])
    assert java_load_text(tmp_path, result.text) == {}


def test_merge_result_and_errors():
    result = P.merge("a=1\nb=2\n", {"a": "9", "c": "3", "b": "2"}, ["d"])
    assert (result.added, result.updated, result.removed) == (["c"], ["a"], [])
    assert result.changed_keys == ["c", "a"] and result.changed
    with pytest.raises(P.PropertiesError, match="both set and removed"):
        P.merge("", {"a": "1"}, ["a"])
    with pytest.raises(P.PropertiesError, match="None"):
        P.merge("", {"a": None}, [])
    with pytest.raises(P.PropertiesError, match="Malformed"):
        P.merge("a=\\uZZZZ\n", {"b": "1"}, [])
    data, res = P.merge_bytes(b"caf\xe9=1\n", {"x": "\u00e9"}, [])
    assert data == b"caf\xe9=1\nx=\\u00E9\n" and res.added == ["x"]


def test_stringification():
    assert P.to_java_string(False) == "false"
    assert P.to_java_string(9093) == "9093"
    assert P.to_java_string(["a", 1, True]) == "a,1,true"
    with pytest.raises(P.PropertiesError):
        P.to_java_string({"a": 1})


def test_secret_keys_and_masking():
    assert P.is_secret_key("ssl.keystore.password")
    assert P.is_secret_key("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config")
    assert P.is_secret_key("sasl.jaas.config")
    assert P.is_secret_key("ssl.keystore.key")
    assert P.is_secret_key("sasl.oauthbearer.client.credentials.client.secret")
    assert P.is_secret_key("my.token", ["my.token"])
    assert not P.is_secret_key("ssl.keystore.location")
    doc = P.PropertiesDocument.parse("a=1\nssl.key.password = hunter2\\\n  more\nb.token:t0k\nempty.password=\n")
    masked = doc.render_masked(lambda k: P.is_secret_key(k, ["b.token"]))
    assert masked == "a=1\nssl.key.password = ********\nb.token:********\nempty.password=\n"


def test_write_file_atomic(tmp_path):
    target = tmp_path / "server.properties"
    target.write_bytes(b"a=1\n")
    os.chmod(target, 0o640)
    before = os.stat(target)
    P.write_file_atomic(str(target), b"a=2\n", like=before)
    after = os.stat(target)
    assert target.read_bytes() == b"a=2\n"
    assert stat.S_IMODE(after.st_mode) == 0o640 and after.st_ino != before.st_ino
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    new = tmp_path / "new.properties"
    P.write_file_atomic(str(new), b"x=1\n")
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.properties", "server.properties"]
