# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record zookeeper_cases.json: what the Jinja implementation of kafkasec.tls.zookeeper wrote into zoo.cfg.

Kept for the record. It was run ONCE, before the ZooKeeper planner replaced that Jinja, against commit
0e4c552 (roles/zookeeper/vars/main.yml, tasks/validate.yml's parse, tasks/config.yml's merge and
restart-reason expressions, templates/zookeeper/zoo-tls.yml.j2); zookeeper_cases.json next to it is
its output, the golden cases the planner, the role's new templates and kafkasec.tls.zookeeper_config
are tested against (tests/unit/test_zookeeper_plan.py, tests/unit/test_templates_zookeeper.py):

    .venv/bin/python tests/unit/golden/zookeeper/make_zookeeper_golden.py --commit 0e4c552

The old role files are taken from that commit with ``git show`` into a temporary directory; the
filters and the kafkasec.tls.properties module come from the working tree through
.build/collections (the helpers of tests/unit/ansible_runner.py). ONE ansible-playbook run on
localhost (local connection) with one inventory host per case:

- the old roles/zookeeper/defaults/main.yml as the inventory's ``all`` variables (role defaults
  rank below the case's host variables), the case's role variables and PKI contract
  (``kafkasec_pki``) as host variables, every string ``!unsafe``; the old vars/main.yml as the
  play's vars_files, role_path pointing at the old role;
- the old validate.yml task "Parse zoo.cfg" (the file's bytes handed in as its slurp result);
- the old config.yml task "Merge the TLS and SASL settings into zoo.cfg (store passwords hidden)",
  run for real on a copy of the case's zoo.cfg;
- one debug of: the rendered settings (that task's from_yaml expression: key -> value, '' = the
  key is removed), the derived variables of vars/main.yml, the merge's changed keys, and the
  restart reasons of the task "Record the pending restart on the host" (JAAS and environment file
  unchanged). The task expressions are read from the old task files, not copied.

Output per case: vars (role variables over the defaults), pki (the contract), current (zoo.cfg
before), settings, derived, changed_keys, reasons, merged (zoo.cfg after the merge). Cases whose
``current`` is ``after:<case>`` start from that case's merged file (a second pass).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from ansible_runner import (  # noqa: E402  (tests/unit on the path first)
    COLLECTIONS_PATH, REPO_ROOT, _Dumper, _MARK, _ansible_playbook, _mark_unsafe, _workdir, ensure_collection_link)

OLD_FILES = ["roles/zookeeper/defaults/main.yml", "roles/zookeeper/vars/main.yml", "roles/zookeeper/tasks/validate.yml",
             "roles/zookeeper/tasks/config.yml", "templates/zookeeper/zoo-tls.yml.j2"]
DERIVED = ["bind", "plain_port", "keep_plaintext", "enforce_sasl"]
STORE_PASSWORD = 'st"ore\\ pw;=x #1'


# --- Current zoo.cfg files -----------------------------------------------------------------------

def zoo(*lines):
    """A zoo.cfg text: comments, unrelated keys (one with a continuation line), then ``lines``."""
    head = ["# ZooKeeper written by hand; clientPort=1 is a comment", "tickTime=2000", "initLimit=10",
            "dataDir=/var/lib/zookeeper", "4lw.commands.whitelist=srvr,\\", "    ruok", "! another comment style",
            "admin.enableServer=false"]
    return "\n".join(head + list(lines)) + "\n"


FILES = {
    "plain": zoo("clientPort=2181", "clientPortAddress=10.0.0.21"),
    "plain-noaddr": zoo("clientPort=2181"),
    # A secure port already bound to an address, and no clientPortAddress: the secure address stays.
    "secure-addr": zoo("clientPort=2181", "secureClientPort=2182", "secureClientPortAddress=10.0.0.22"),
    "no-plain": zoo("secureClientPort=2182"),
    # The pre-3.7 spelling and an operator's own provider key (kept).
    "legacy-sasl": zoo("clientPort=2181", "clientPortAddress=10.0.0.21", "requireClientAuthScheme=sasl",
                       "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"),
    # What a first rollout leaves (playbooks/zookeeper.yml: transition, then the end state).
    "after-transition": "after:plain__transition",
    "after-end-state": "after:plain__defaults",
    "after-pem": "after:plain__pem",
}

# --- Role variables and PKI contracts ------------------------------------------------------------

PKI = {
    "pki_dir": "/etc/zookeeper/pki",
    "keystore_type": "pkcs12", "keystore_path": "/etc/zookeeper/pki/keystore.p12", "keystore_password": STORE_PASSWORD,
    "truststore_type": "pkcs12", "truststore_path": "/etc/zookeeper/pki/truststore.p12", "truststore_password": "tpass",
    "keystore_changed": False, "truststore_changed": False,
    "certificate_path": "/etc/zookeeper/pki/zk-1.crt", "privatekey_path": "/etc/zookeeper/pki/zk-1.key",
    "ca_chain_path": "/etc/zookeeper/pki/ca-chain.crt",
}
# As kafkasec.tls.certificates exports them: a PEM store has no password (null).
PKI_PEM = dict(PKI, keystore_type="pem", keystore_path="/etc/zookeeper/pki/keystore.pem", keystore_password=None,
               truststore_type="pem", truststore_path="/etc/zookeeper/pki/truststore.pem", truststore_password=None)
PKI_JKS = dict(PKI, keystore_type="jks", keystore_path="/srv/zk/keystore.jks", truststore_type="jks",
               truststore_path="/srv/zk/truststore.jks")

VARSETS = {
    "defaults": {},
    "transition": {"kafkasec_zookeeper_transition": True},
    "keep_plaintext": {"kafkasec_zookeeper_keep_plaintext": True},
    "keep_plaintext_no_enforce": {"kafkasec_zookeeper_keep_plaintext": True, "kafkasec_zookeeper_enforce_sasl": False},
    "no_enforce": {"kafkasec_zookeeper_enforce_sasl": False},
    "transition_keep": {"kafkasec_zookeeper_transition": True, "kafkasec_zookeeper_keep_plaintext": True},
    "client_auth_want": {"kafkasec_zookeeper_ssl_client_auth": "want"},
    "client_auth_none": {"kafkasec_zookeeper_ssl_client_auth": "none"},
    "tls12": {"kafkasec_zookeeper_ssl_enabled_protocols": ["TLSv1.2"], "kafkasec_zookeeper_ssl_protocol": "TLSv1.2"},
    "tls12_first": {"kafkasec_zookeeper_ssl_enabled_protocols": ["TLSv1.2", "TLSv1.3"],
                    "kafkasec_zookeeper_ssl_protocol": "TLSv1.2"},
    "listen_any": {"kafkasec_zookeeper_listen_address": "0.0.0.0"},
    "listen_every": {"kafkasec_zookeeper_listen_address": ""},
    "listen_any_keep": {"kafkasec_zookeeper_listen_address": "0.0.0.0", "kafkasec_zookeeper_keep_plaintext": True},
    "port": {"kafkasec_zookeeper_secure_client_port": 2281},
    "extra": {"kafkasec_zookeeper_extra_properties": {
        "sslQuorum": "false", "4lw.commands.whitelist": "srvr, ruok", "admin.enableServer": False,
        "globalOutstandingLimit": 1000, "odd:key name": "a=b \\ c", "ssl.quorum.keyStore.password": "quorum pw"}},
    # An extra key overrides a managed one; an empty value removes a key.
    "extra_override": {"kafkasec_zookeeper_extra_properties": {"ssl.clientAuth": "want", "admin.enableServer": ""}},
    "pem": {"pki": PKI_PEM},
    "jks": {"pki": PKI_JKS},
    "keystore_changed": {"pki": dict(PKI, keystore_changed=True)},
    "stores_changed": {"pki": dict(PKI, keystore_changed=True, truststore_changed=True)},
}

MATRIX = {  # file -> variable sets
    "plain": ["defaults", "transition", "keep_plaintext", "keep_plaintext_no_enforce", "no_enforce", "transition_keep",
              "client_auth_want", "client_auth_none", "tls12", "tls12_first", "listen_any", "listen_every",
              "listen_any_keep", "port", "extra", "extra_override", "pem", "jks", "keystore_changed"],
    "plain-noaddr": ["defaults", "transition", "keep_plaintext", "listen_any", "listen_any_keep"],
    "secure-addr": ["defaults", "keep_plaintext", "listen_every"],
    "no-plain": ["defaults", "keep_plaintext", "transition"],
    "legacy-sasl": ["defaults", "no_enforce"],
    "after-transition": ["defaults", "transition", "stores_changed"],
    "after-end-state": ["defaults", "transition", "keystore_changed", "pem"],
    "after-pem": ["pem", "defaults"],
}


# --- Running the old code ------------------------------------------------------------------------

def old_tree(commit: str, target: Path) -> Path:
    for name in OLD_FILES:
        text = subprocess.run(["git", "-C", str(REPO_ROOT), "show", "%s:%s" % (commit, name)], check=True,
                              capture_output=True, text=True).stdout
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text)
    return target


def find_task(tasks, name):
    for task in tasks or []:
        if task.get("name") == name:
            return task
        for key in ("block", "rescue", "always"):
            found = find_task(task.get(key), name)
            if found:
                return found
    return None


def playbook(old: Path):
    tasks = old / "roles/zookeeper/tasks"
    parse = find_task(yaml.safe_load((tasks / "validate.yml").read_text()), "Parse zoo.cfg")
    config = yaml.safe_load((tasks / "config.yml").read_text())
    merge = find_task(config, "Merge the TLS and SASL settings into zoo.cfg (store passwords hidden)")
    record = find_task(config, "Record the pending restart on the host")
    return [{
        "name": "golden", "hosts": "all", "gather_facts": False, "connection": "local",
        "vars": {"role_path": str(old / "roles/zookeeper")},
        "vars_files": [str(old / "roles/zookeeper/vars/main.yml")],
        "tasks": [
            {"name": "parse", "ansible.builtin.set_fact": parse["ansible.builtin.set_fact"]},
            dict(merge),
            {"name": "record", "vars": dict(merge["vars"], **record["vars"]), "ansible.builtin.debug": {"msg": {
                "case": "{{ inventory_hostname }}",
                "settings": "{{ kafkasec_zookeeper__settings }}",
                "derived": {name: "{{ kafkasec_zookeeper__%s }}" % name for name in DERIVED},
                "changed_keys": "{{ kafkasec_zookeeper__merge.changed_keys }}",
                "reasons": "{{ kafkasec_zookeeper__reasons }}"}}},
        ],
    }]


def run_pass(old: Path, workdir: Path, cases, merged_of):
    """One ansible-playbook run for ``cases`` [(name, file, varset)] -> {name: record}."""
    defaults = yaml.safe_load((old / "roles/zookeeper/defaults/main.yml").read_text())
    hosts = {}
    records = {}
    for name, file_name, varset in cases:
        current = FILES[file_name]
        if current.startswith("after:"):
            current = merged_of[current[len("after:"):]]
        path = workdir / name / "zoo.cfg"
        path.parent.mkdir()
        path.write_text(current)
        path.chmod(0o640)  # the role's mode: a case's changes are its content's
        case_vars = dict(VARSETS[varset])
        pki = case_vars.pop("pki", PKI)
        host = dict(_mark_unsafe(case_vars), kafkasec_pki=_mark_unsafe(pki),
                    kafkasec_zookeeper_config_path=str(path),
                    kafkasec_zookeeper__slurp={"content": base64.b64encode(current.encode("latin-1")).decode()},
                    kafkasec_zookeeper__jaas={"changed": False}, kafkasec_zookeeper__env={"changed": False},
                    ansible_python_interpreter=sys.executable)
        hosts[name] = host
        records[name] = {"vars": case_vars, "pki": pki, "current": current, "path": path}
    inventory = workdir / ("inventory-%d.yml" % len(list(workdir.glob("inventory-*.yml"))))
    inventory.write_text(yaml.dump({"all": {"vars": defaults, "hosts": hosts}}, Dumper=_Dumper, sort_keys=True))
    play = workdir / "play.yml"
    play.write_text(yaml.safe_dump(playbook(old), sort_keys=False, width=1000))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
               ANSIBLE_CALLBACK_PLUGINS=str(_workdir() / "callback_plugins"), ANSIBLE_STDOUT_CALLBACK="kafkasec_test_result",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_FORKS="4")
    proc = subprocess.run([_ansible_playbook(), "-i", str(inventory), str(play)], cwd=str(workdir), env=env,
                          capture_output=True, text=True, check=False)
    results = [json.loads(line[len(_MARK):]) for line in proc.stdout.splitlines() if line.startswith(_MARK)]
    failed = [r for r in results if r.get("failed")]
    if proc.returncode != 0 or failed:
        raise RuntimeError("old code failed (rc %s): %s\n%s" % (proc.returncode, failed, proc.stderr[-3000:]))
    for result in results:
        msg = result.get("msg")
        if isinstance(msg, dict) and "case" in msg:
            record = records[msg.pop("case")]
            record.update(msg)
    for name, record in records.items():
        if "settings" not in record:
            raise RuntimeError("%s: no result\n%s" % (name, proc.stdout[-3000:]))
        record["merged"] = record.pop("path").read_text(encoding="latin-1")
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commit", default="HEAD", help="the commit whose ZooKeeper role is recorded")
    parser.add_argument("--output", type=Path, default=HERE / "zookeeper_cases.json")
    args = parser.parse_args()
    ensure_collection_link()
    cases = [("%s__%s" % (f, v), f, v) for f, varsets in MATRIX.items() for v in varsets]
    first = [c for c in cases if not FILES[c[1]].startswith("after:")]
    second = [c for c in cases if FILES[c[1]].startswith("after:")]
    with tempfile.TemporaryDirectory(prefix="zookeeper-golden-") as tmp:
        workdir = Path(tmp)
        old = old_tree(args.commit, workdir / "old")
        plans = run_pass(old, workdir, first, {})
        plans.update(run_pass(old, workdir, second, {name: plan["merged"] for name, plan in plans.items()}))
    args.output.write_text(json.dumps(plans, sort_keys=True, indent=1, ensure_ascii=False) + "\n")
    print("%d cases -> %s" % (len(plans), args.output))


if __name__ == "__main__":
    main()
