# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CA module's input checks (plugins/module_utils/pki/ca.py request_problems), which replaced the ca
role's assert tasks, and the CA directory it makes: every problem at once, each naming the role variable."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import FileError
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.ca import (
    ensure_directory, request_problems, variable_name)

GOOD = dict(directory="/srv/ca", certificate_path="/srv/ca/ca.crt", privatekey_path="/srv/ca/ca.key",
            chain_path=None, privatekey_passphrase=None, subject={"CN": "Example CA"}, validity_days=3650,
            path_length=0, src_certificate_path=None, src_privatekey_path=None, src_privatekey_passphrase=None,
            src_chain_path=None)

PROBLEM_CASES = [
    # (case, changes to GOOD, the variables named, in order)
    ("good inputs", {}, []),
    ("relative paths", {"directory": "ca", "certificate_path": "ca/ca.crt"},
     ["kafkasec_ca_dir", "kafkasec_ca_certificate_path"]),
    ("certificate and key on one path", {"privatekey_path": "/srv/ca/ca.crt"}, ["kafkasec_ca_privatekey_path"]),
    ("lifetime and path length", {"validity_days": 0, "path_length": -1},
     ["kafkasec_ca_validity_days", "kafkasec_ca_path_length"]),
    ("subject without CN", {"subject": {"O": "Example"}}, ["kafkasec_ca_subject"]),
    ("empty passphrase", {"privatekey_passphrase": ""}, ["kafkasec_ca_privatekey_passphrase"]),
    ("import key without certificate", {"src_privatekey_path": "__key__"}, ["kafkasec_ca_import_certificate_path"]),
    ("import chain and passphrase without an import", {"src_chain_path": "__cert__", "src_privatekey_passphrase": "x"},
     ["kafkasec_ca_import_chain_path", "kafkasec_ca_import_privatekey_passphrase"]),
    ("import of files that are not there", {"src_certificate_path": "/nonexistent/ca.crt",
                                            "src_privatekey_path": "/nonexistent/ca.key"},
     ["kafkasec_ca_import_certificate_path", "kafkasec_ca_import_privatekey_path"]),
    ("an import needs no CN of its own", {"subject": {}, "src_certificate_path": "__cert__",
                                          "src_privatekey_path": "__key__"}, []),
]


@pytest.mark.parametrize("case,changes,variables", PROBLEM_CASES, ids=[c[0] for c in PROBLEM_CASES])
def test_request_problems_name_every_variable_at_once(case, changes, variables, tmp_path):
    files = {"__cert__": tmp_path / "import.crt", "__key__": tmp_path / "import.key"}
    for path in files.values():
        path.write_text("x")
    params = dict(GOOD, **{k: str(files[v]) if isinstance(v, str) and v in files else v for k, v in changes.items()})
    problems = request_problems(params, "kafkasec_ca_")
    assert [v for v, _ in problems] == variables, (case, problems)
    for variable, message in problems:
        assert variable in message, message
    # Without a prefix the messages name the module's options.
    assert [v for v, _ in request_problems(params)] == [
        v.replace("kafkasec_ca_import_", "src_").replace("kafkasec_ca_dir", "directory").replace("kafkasec_ca_", "")
        for v in variables], case


@pytest.mark.parametrize("option,prefix,variable", [
    ("src_chain_path", "kafkasec_ca_", "kafkasec_ca_import_chain_path"),
    ("directory", "kafkasec_ca_", "kafkasec_ca_dir"),
    ("validity_days", "kafkasec_ca_", "kafkasec_ca_validity_days"),
    ("directory", "", "directory"),
])
def test_variable_name(option, prefix, variable):
    assert variable_name(option, prefix) == variable


def test_ensure_directory_makes_sets_and_keeps(tmp_path):
    path = tmp_path / "a" / "ca"
    assert ensure_directory(str(path), check_mode=True) is True
    assert not path.exists()
    assert ensure_directory(str(path), check_mode=False) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    assert ensure_directory(str(path), check_mode=False) is False
    os.chmod(path, 0o755)
    assert ensure_directory(str(path), check_mode=True) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o755
    assert ensure_directory(str(path), check_mode=False) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileError, match="is not a directory"):
        ensure_directory(str(tmp_path / "file"), check_mode=False)
