# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/pki/request_memo.py and its users: a converged host's request step answered on
the controller. Tables for when a memo holds (the host's files, the options, the code, the time, the
run key) and a round trip through the real host_pki module and its action plugin."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any, Dict, List

import pytest

from ansible_collections.kafkasec.tls.plugins.action import host_pki as host_pki_action
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import request_memo as M

from ansible_runner import REPO_ROOT, run_module
from pki_helpers import cert_pem
from test_action_plugins import action, task_vars
from test_host_pki import ca, roll, settings  # noqa: F401  pylint: disable=unused-import  # ca is a fixture

KEY = "this-runs-digest-key"
RESULT = dict(changed=False, changed_parts=[], installed=True, pki=dict(keystore_password="s3cret"), csr="CSR")


def watched(tmp_path: Path) -> List[str]:
    (tmp_path / "pki").mkdir(exist_ok=True)
    for name in ("host.key", "host.crt", "keystore.p12", "keystore.password"):
        (tmp_path / "pki" / name).write_bytes(name.encode())
        os.chmod(tmp_path / "pki" / name, 0o600)
    return [str(tmp_path / "pki")] + [str(tmp_path / "pki" / name) for name in
                                      ("host.key", "host.crt", "keystore.p12", "keystore.password", ".keystore.p12.seal")]


def keep(tmp_path: Path, paths: List[str], inputs: str = "inputs-1", renew_from: float = 2000.0) -> str:
    Path(M.memo_path(str(tmp_path / "pki"))).write_bytes(M.memo_text(inputs, paths, RESULT, renew_from))
    return str(tmp_path / "pki")


def _touch_bytes(pki: Path) -> None:
    (pki / "keystore.p12").write_bytes(b"restored from elsewhere")


def _touch_mode(pki: Path) -> None:
    os.chmod(pki / "host.key", 0o644)


def _delete(pki: Path) -> None:
    (pki / "keystore.password").unlink()


def _appear(pki: Path) -> None:
    (pki / ".keystore.p12.seal").write_bytes(b"a seal that was not there")


def _damage_memo(pki: Path) -> None:
    (pki / M.MEMO_NAME).write_text("{not json")


def _other_format(pki: Path) -> None:
    memo = json.loads((pki / M.MEMO_NAME).read_text())
    (pki / M.MEMO_NAME).write_text(json.dumps(dict(memo, format="kafkasec-request-memo-0")))


def _no_memo(pki: Path) -> None:
    (pki / M.MEMO_NAME).unlink()


@pytest.mark.parametrize("case, change, holds", [
    ("files as they were", None, True),
    ("a store's bytes", _touch_bytes, False),
    ("a key's mode", _touch_mode, False),
    ("a password file gone", _delete, False),
    ("a file that was missing appeared", _appear, False),
    ("damaged memo", _damage_memo, False),
    ("another memo format", _other_format, False),
    ("no memo", _no_memo, False),
])
def test_the_host_seals_its_memo_only_while_every_watched_file_is_unchanged(tmp_path: Path, case, change, holds) -> None:
    pki = keep(tmp_path, watched(tmp_path))
    if change:
        change(Path(pki))
    sealed = M.sealed_memo(pki, KEY)
    assert (sealed is not None) is holds, case
    if holds:
        assert "s3cret" not in sealed and "inputs-1" not in sealed, "nothing readable leaves the host"
        assert M.open_memo(sealed, KEY, "inputs-1", 1000.0) == {k: v for k, v in RESULT.items() if k != "csr"}


@pytest.mark.parametrize("case, key, inputs, now, opens", [
    ("same key, inputs, before the renewal window", KEY, "inputs-1", 1999.0, True),
    ("another run's key", "another-runs-key", "inputs-1", 1000.0, False),
    ("other options or code", KEY, "inputs-2", 1000.0, False),
    ("the renewal window reached", KEY, "inputs-1", 2000.0, False),
    ("no key", None, "inputs-1", 1000.0, False),
])
def test_the_controller_opens_a_memo_only_for_its_own_key_inputs_and_time(tmp_path: Path, case, key, inputs, now,
                                                                          opens) -> None:
    sealed = M.sealed_memo(keep(tmp_path, watched(tmp_path)), KEY)
    assert (M.open_memo(sealed, key, inputs, now) is not None) is opens, case


@pytest.mark.parametrize("sealed", [None, "", "not base64!", "AAAA", "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ=="])
def test_a_damaged_or_missing_seal_asks_the_host(sealed) -> None:
    assert M.open_memo(sealed, KEY, "inputs-1", 0.0) is None


def test_the_inputs_digest_covers_every_option_and_the_code_but_not_the_memo_options(tmp_path: Path) -> None:
    options = dict(step="request", host="kafka-1", renewal_days=30, keystore_password="from-the-vault", ca_chain=["A"])
    base = M.inputs_digest(options, "code-1")
    assert M.inputs_digest(dict(options, known_request=dict(sealed="x", key="y"), memo_inputs="z"), "code-1") == base
    for option, value in (("renewal_days", 31), ("keystore_password", "rotated"), ("ca_chain", ["A", "B"]),
                          ("force_renew", True)):
        assert M.inputs_digest(dict(options, **{option: value}), "code-1") != base, option
    assert M.inputs_digest(options, "code-2") != base
    plugins = tmp_path / "plugins"
    shutil.copytree(REPO_ROOT / "plugins" / "module_utils" / "pki", plugins / "module_utils" / "pki")
    shutil.copytree(REPO_ROOT / "plugins" / "module_utils" / "common", plugins / "module_utils" / "common")
    (plugins / "modules").mkdir()
    shutil.copy(REPO_ROOT / "plugins" / "modules" / "host_pki.py", plugins / "modules")
    code = M.code_digest(str(plugins))
    assert code == M.code_digest(str(REPO_ROOT / "plugins"))
    with open(plugins / "module_utils" / "pki" / "host.py", "a", encoding="utf-8") as handle:
        handle.write("\n# another release\n")
    assert M.code_digest(str(plugins)) != code


def test_a_converged_host_is_answered_on_the_controller_and_a_changed_one_asked(tmp_path: Path, ca) -> None:  # noqa: F811
    """The real module and its action plugin: a request that changed nothing keeps a memo; this run's plan
    call seals it (what broker_config calls); the next request is answered from it without a call, and one
    with other options, or after a file changed, asks the host."""
    s = settings(tmp_path)
    roll(s, ca["params"])
    args = dict(step="request", host=s.host, pki_dir=s.pki_dir, common_name=s.common_name, dns_names=list(s.dns_names),
                ip_addresses=[], key_type="ec", ec_curve="P-256", privatekey_path=s.privatekey_path,
                certificate_path=s.certificate_path, ca_chain_path=s.ca_chain_path, keystore_path=s.keystore_path,
                keystore_password_file=s.keystore_password_file, truststore_path=s.truststore_path,
                truststore_password_file=s.truststore_password_file, ca_hosts=["ca.lab.test"],
                ca_chain=[cert_pem(ca["issuer"].cert)])
    calls: List[Dict[str, Any]] = []

    def request(extra: Dict[str, Any]) -> Dict[str, Any]:
        plugin, recorded = action(host_pki_action, dict(args, **extra), {})
        plugin._execute_module = lambda module_name, module_args, task_vars: (  # pylint: disable=protected-access
            recorded.append(dict(module_args)) or run_module(module_name, module_args))
        result = plugin.run(task_vars=task_vars(s.host))
        calls.append(dict(count=len(recorded), sent=recorded))
        return result

    settled = request({})  # settles what the test's own writes left (the directory's mode): changed, no memo
    assert settled["changed"] and not Path(M.memo_path(s.pki_dir)).exists(), settled.get("changed_parts")
    first = request({})
    assert calls[-1]["count"] == 1 and calls[-1]["sent"][0]["memo_inputs"], "the host is asked and told the digest"
    assert first["installed"] and first["changed"] is False and not first.get("failed"), first
    memo = Path(M.memo_path(s.pki_dir))
    assert stat.S_IMODE(memo.stat().st_mode) == 0o600

    sealed = M.sealed_memo(s.pki_dir, KEY)
    second = request(dict(known_request=dict(sealed=sealed, key=KEY)))
    assert calls[-1]["count"] == 0, "answered on the controller"
    assert second["pki"] == first["pki"] and second["installed"] and second["changed"] is False
    assert second["current_certificate"] == first["current_certificate"]

    other = request(dict(known_request=dict(sealed=sealed, key=KEY), renewal_days=29))
    assert calls[-1]["count"] == 1 and other["pki"] == first["pki"], "other options: the host is asked"
    assert "known_request" not in calls[-1]["sent"][0], "the run key never reaches the host"

    os.chmod(s.truststore_path, 0o644)
    assert M.sealed_memo(s.pki_dir, KEY) is None, "a file changed since: the plan call seals nothing"
