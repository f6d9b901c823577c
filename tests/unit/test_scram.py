# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/kafka/scram.py (SCRAM users: input checks, the plan), the scram_user_problems filter and the
scram_users module's refusal of bad input before it connects anywhere. The real cluster side (admin
API, the login that tells whether a password is current) runs in the Molecule scenario sasl."""

from __future__ import annotations

from typing import Dict, List

import pytest

from ansible_collections.kafkasec.tls.plugins.filter import kafkasec as F
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import scram as S
from ansible_runner import run_module

VAR = "kafkasec_broker_scram_users"


def test_parse_defaults_and_repr_hides_the_password():
    (user,) = S.parse_users([{"name": "alice", "password": 'a"b\\c;d=e'}], VAR)
    assert (user.name, user.mechanism, user.iterations, user.state) == ("alice", "SCRAM-SHA-512", 8192, "present")
    assert user.password == 'a"b\\c;d=e'
    assert "a\"b" not in repr(user)
    assert S.parse_users(None) == []


@pytest.mark.parametrize("entry, message", [
    ({"name": "dave", "password": "x", "mechanism": "SCRAM-SHA-1"},
     "%s[1] (user dave): unknown SCRAM mechanism 'SCRAM-SHA-1'; Kafka knows SCRAM-SHA-256, SCRAM-SHA-512" % VAR),
    ({"name": "dave", "password": "x", "mechanism": "scram-sha-512"}, "upper case: SCRAM-SHA-512"),
    ({"name": "dave", "password": "x", "mechanism": "PLAIN"}, "kafkasec_broker_sasl_plain_users"),
    ({"name": "dave"}, "%s[1] (user dave): no password (there is no default password)" % VAR),
    ({"name": "dave", "password": ""}, "no password"),
    ({"name": "dave", "password": ["x"]}, "must be a string"),
    ({"name": "dave", "password": "x", "iterations": 1000}, "iterations 1000 is outside what Kafka accepts (4096..16384)"),
    ({"name": "dave", "password": "x", "iterations": "many"}, "iterations must be a number"),
    ({"name": "dave", "password": "x", "state": "gone"}, "state must be present or absent"),
    ({"name": "", "password": "x"}, "%s[1]: name must be a non-empty user name" % VAR),
    ({"name": " dave", "password": "x"}, "without surrounding spaces"),
    ({"name": "dave", "password": "x", "salt": "y"}, "unknown key(s) salt"),
    ({"name": "alice", "password": "y"}, "(user alice): SCRAM-SHA-512 is listed twice"),
    ("alice", "%s[1]: expected a mapping" % VAR),
])
def test_bad_entries_are_refused_naming_entry_user_and_variable(entry, message):
    with pytest.raises(S.ScramError) as info:
        S.parse_users([{"name": "alice", "password": "p"}, entry], VAR)
    assert message in str(info.value)


def test_not_a_list():
    for value in ("alice", {"name": "alice"}, 3):
        with pytest.raises(S.ScramError, match="expected a list of users"):
            S.parse_users(value, VAR)


def test_absent_needs_no_password_and_same_name_other_mechanism_is_fine():
    users = S.parse_users([{"name": "a", "state": "absent"},
                           {"name": "b", "password": "x"}, {"name": "b", "password": "y", "mechanism": "SCRAM-SHA-256"}])
    assert [(u.name, u.mechanism, u.state) for u in users] == [
        ("a", "SCRAM-SHA-512", "absent"), ("b", "SCRAM-SHA-512", "present"), ("b", "SCRAM-SHA-256", "present")]


def _plan(wanted: List[Dict], existing, current=True, update_password="when_changed"):
    asked: List[str] = []

    def password_current(user):
        asked.append(user.label)
        return current(user) if callable(current) else current

    actions = S.plan(S.parse_users(wanted), existing, password_current, update_password)
    return [(a.kind, a.user.name, a.user.mechanism, a.reason) for a in actions], asked


def test_plan_create_keep_update_delete():
    wanted = [{"name": "new", "password": "p"},
              {"name": "same", "password": "p"},
              {"name": "moved", "password": "p", "iterations": 4096},
              {"name": "changed", "password": "p"},
              {"name": "gone", "state": "absent"},
              {"name": "never", "state": "absent"}]
    existing = {"same": {"SCRAM-SHA-512": 8192}, "moved": {"SCRAM-SHA-512": 8192},
                "changed": {"SCRAM-SHA-512": 8192}, "gone": {"SCRAM-SHA-512": 4096}, "other": {"SCRAM-SHA-256": 4096}}
    actions, asked = _plan(wanted, existing, current=lambda user: user.name != "changed")
    assert actions == [
        ("create", "new", "SCRAM-SHA-512", "no SCRAM-SHA-512 credential"),
        ("update", "moved", "SCRAM-SHA-512", "iterations 8192 -> 4096"),
        ("update", "changed", "SCRAM-SHA-512", "password changed (the SCRAM login with it failed)"),
        ("delete", "gone", "SCRAM-SHA-512", "state absent"),
    ]
    # A password is only tried for a credential that exists with the wanted iterations.
    assert asked == ["same (SCRAM-SHA-512)", "changed (SCRAM-SHA-512)"]


def test_plan_mechanisms_are_separate_credentials():
    actions, _ = _plan([{"name": "u", "password": "p", "mechanism": "SCRAM-SHA-256"},
                        {"name": "u", "state": "absent"}], {"u": {"SCRAM-SHA-256": 8192, "SCRAM-SHA-512": 8192}})
    assert actions == [("delete", "u", "SCRAM-SHA-512", "state absent")]


def test_plan_on_create_never_asks_and_keeps_existing_passwords():
    actions, asked = _plan([{"name": "a", "password": "p", "iterations": 4096}, {"name": "b", "password": "p"}],
                           {"a": {"SCRAM-SHA-512": 8192}}, current=False, update_password="on_create")
    assert actions == [("create", "b", "SCRAM-SHA-512", "no SCRAM-SHA-512 credential")]
    assert asked == []


def test_plan_rerun_with_same_passwords_changes_nothing():
    wanted = [{"name": "a", "password": "p"}, {"name": "b", "password": "q", "mechanism": "SCRAM-SHA-256",
                                                 "iterations": 4096}]
    actions, asked = _plan(wanted, {"a": {"SCRAM-SHA-512": 8192}, "b": {"SCRAM-SHA-256": 4096}})
    assert actions == [] and len(asked) == 2


def test_plan_refuses_unknown_update_mode():
    with pytest.raises(S.ScramError, match="update_password must be one of when_changed, on_create"):
        S.plan([], {}, lambda user: True, "always")


def test_ensure_needs_a_listener_to_check_passwords():
    with pytest.raises(S.ScramError, match="needs sasl_bootstrap_servers"):
        S.ensure(None, S.parse_users([{"name": "a", "password": "p"}]), None)  # type: ignore[arg-type]


def test_filter_scram_user_problems():
    assert F.scram_user_problems([{"name": "a", "password": "p"}], VAR) == []
    (problem,) = F.scram_user_problems([{"name": "a", "password": "p", "mechanism": "SCRAM-SHA-1"}], VAR)
    assert problem.startswith("%s[0] (user a): unknown SCRAM mechanism 'SCRAM-SHA-1'" % VAR)
    users = [{"name": "a", "password": "p"}, {"name": "b", "password": "p", "mechanism": "SCRAM-SHA-256"},
             {"name": "c", "state": "absent", "mechanism": "SCRAM-SHA-256"}]
    assert F.scram_user_problems(users, VAR, login_mechanisms=["SCRAM-SHA-512", "SCRAM-SHA-256"]) == []
    (problem,) = F.scram_user_problems(users, VAR, login_mechanisms=["SCRAM-SHA-512"])
    assert "user b uses SCRAM-SHA-256, which the SASL_SSL listener does not enable (SCRAM-SHA-512)" in problem
    assert len(F.scram_user_problems(users, VAR, login_mechanisms=[])) == 2   # listener off: a and b


def test_module_refuses_an_unknown_mechanism_before_connecting(tmp_path):
    # The paths do not exist and nothing listens on the ports: the error comes from the input check.
    result = run_module("kafkasec.tls.scram_users", {
        "bootstrap_servers": ["kafka-1.invalid:9093"], "sasl_bootstrap_servers": ["kafka-1.invalid:9096"],
        "ca_path": str(tmp_path / "ca.crt"), "cert_path": str(tmp_path / "c.crt"), "key_path": str(tmp_path / "c.key"),
        "users": [{"name": "alice", "password": "s3cret-pw", "mechanism": "SCRAM-SHA-512"},
                  {"name": "dave", "password": "s3cret-pw", "mechanism": "SCRAM-SHA-1"}],
        "variable": VAR,
    }, check=False)
    assert result["failed"]
    assert result["msg"] == ("%s[1] (user dave): unknown SCRAM mechanism 'SCRAM-SHA-1'; "
                             "Kafka knows SCRAM-SHA-256, SCRAM-SHA-512" % VAR)
    assert "s3cret-pw" not in str(result)   # no_log on the passwords


def test_module_check_mode_on_unreachable_cluster_fails_naming_it(tmp_path):
    for name in ("ca.crt", "c.crt", "c.key"):
        (tmp_path / name).write_text("not used\n")
    result = run_module("kafkasec.tls.scram_users", {
        "bootstrap_servers": ["127.0.0.1:9093"], "ca_path": str(tmp_path / "ca.crt"),
        "cert_path": str(tmp_path / "c.crt"), "key_path": str(tmp_path / "c.key"),
        "users": [{"name": "alice", "password": "s3cret-pw"}], "update_password": "on_create", "request_timeout": 2,
    }, check=True)
    assert result["failed"]
    assert "IP address" in result["msg"]   # librdkafka verifies names: the module says so before connecting
    assert "s3cret-pw" not in str(result)
