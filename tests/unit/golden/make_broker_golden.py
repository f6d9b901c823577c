# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record broker_plans.json: what the old Jinja implementation of kafkasec.tls.broker computed.

Kept for the record. This script was run ONCE against the pre-planner commit 6b1d002 (the Jinja logic of
roles/broker/vars/main.yml and templates/broker/*.yml.j2, before the Python node planner replaced
it); broker_plans.json next to it is its output, the golden fixtures the planner is tested against.
It needs that old code, checked out on its own and linked as a collection:

    git -C /work/main worktree add /tmp/oldbroker <pre-planner commit>
    mkdir -p /tmp/oldcoll/ansible_collections/kafkasec
    ln -sfn /tmp/oldbroker /tmp/oldcoll/ansible_collections/kafkasec/tls
    .venv/bin/python tests/unit/golden/make_broker_golden.py --old /tmp/oldbroker --collections /tmp/oldcoll

For each case (a current server.properties + the role variables + the inventory) it runs
ansible-playbook on localhost (no module runs: set_fact and debug only) with a play that loads the
old roles/broker/defaults/main.yml and vars/main.yml as vars_files, the case's variables as extra
vars (every string !unsafe; extra vars because vars_files would override play vars), and then
- parses the file with the very set_fact expression of the old tasks/validate.yml ("Parse
  server.properties"; the file's bytes are handed in as kafkasec_broker__slurp, like its slurp),
- evaluates in one debug task the kafkasec_broker__settings expression of the old tasks/config.yml
  (ssl template | from_yaml, combined with the sasl template or kafkasec_broker__sasl_absent, and the
  zookeeper template in ZooKeeper mode) and the derived variables listed in DERIVED.
Both expressions are read from the old task files, not copied. A case whose Jinja fails records
{"error": message} instead of settings/derived.

Intended changes since the recording, made by hand and said so in their commits:
- 0.3.0 (authorisation): every case's settings gained the four keys the planner now sets -
  authorizer.class.name (StandardAuthorizer; AclAuthorizer in ZooKeeper mode), ssl.principal.mapping.rules
  (the default rule), super.users (User:<name> of every host of kafka_broker and kafka_controller, sorted,
  ';'-joined) and allow.everyone.if.no.acl.found=false - except the cases in the middle of a live
  migration (derived.migrating), where they stay as the file has them (here: absent, so '').

Output per case: vars, current (file text), hostname, groups, hostvars (of the other inventory
hosts), current_parsed (kafkasec_broker__current), settings, derived. The derived values are what a
template of ansible-core 2.18 made of them: booleans, lists and dicts keep their type, numbers come
out as strings (stage "0".."3").
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
MARK = "KAFKASEC-GOLDEN "
KPASS, TPASS = "kpass", "tpass"
HOST = "kafka-1.lab.test"
NODES = ["kafka-1.lab.test", "kafka-2.lab.test", "kafka-3.lab.test"]
ZK_NODES = ["zk-1.lab.test", "zk-2.lab.test", "zk-3.lab.test"]
ZK_HOSTVARS = {"zk-2.lab.test": {"kafkasec_zookeeper_secure_client_port": 2190},
               "zk-3.lab.test": {"kafkasec_zookeeper_advertised_host": "zk-3.example.org"}}
DERIVED = ["stage", "phase", "migrating", "is_controller", "switch_expected", "zk_switch_expected",
           "dynamic_quorum", "controller_names_accepted", "advertised_in_sans", "old_controller_name",
           "old_controller_endpoint", "backup_paths", "zk_connect"]

CALLBACK = '''
import json
from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase
from ansible.vars.clean import module_response_deepcopy, strip_internal_keys

class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "golden"

    def _emit(self, result, failed):
        data = strip_internal_keys(module_response_deepcopy(result._result))
        data["failed"] = failed
        self._display.display(%r + json.dumps(data, cls=AnsibleJSONEncoder, sort_keys=True))

    def v2_runner_on_ok(self, result):
        self._emit(result, False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._emit(result, True)
''' % MARK


# --- Current server.properties files ------------------------------------------------------------

def props(*lines, node_id="node.id=1"):
    """A server.properties text: unrelated keys, a comment, a continuation line, then ``lines``."""
    head = ["# Kafka node written by hand; listeners=IGNORED://comment:1 is a comment", node_id,
            "log.dirs=/var/lib/kafka/data", "num.partitions=3", "log.retention.hours=\\", "    168",
            "! another comment style", "num.io.threads=8"]
    return "\n".join(head + list(lines)) + "\n"


def voters(port):
    return "controller.quorum.voters=" + ",".join("%d@%s:%d" % (i + 1, n, port) for i, n in enumerate(NODES))


ADV_PLAIN = "advertised.listeners=PLAINTEXT://kafka-1.lab.test:9092"
SSL_KEYS = ["ssl.keystore.type=PKCS12", "ssl.keystore.location=/etc/kafka/pki/keystore.p12",
            "ssl.keystore.password=kpass", "ssl.truststore.type=PKCS12",
            "ssl.truststore.location=/etc/kafka/pki/truststore.p12", "ssl.truststore.password=tpass",
            "ssl.client.auth=required", "ssl.enabled.protocols=TLSv1.3,TLSv1.2", "ssl.protocol=TLSv1.3",
            "ssl.endpoint.identification.algorithm=https"]
STAGE_LISTENERS = ("listeners=PLAINTEXT://127.0.1.1:9092,SSL://127.0.1.1:9093,"
                   "CONTROLLER://127.0.1.1:9094,CONTROLLER_SSL://127.0.1.1:9095")
STAGE_ADV = ("advertised.listeners=PLAINTEXT://kafka-1.lab.test:9092,SSL://kafka-1.lab.test:9093,"
             "CONTROLLER://kafka-1.lab.test:9094,CONTROLLER_SSL://kafka-1.lab.test:9095")
STAGE_MAP = "listener.security.protocol.map=CONTROLLER:PLAINTEXT,CONTROLLER_SSL:SSL,SSL:SSL,PLAINTEXT:PLAINTEXT"
PLAIN_COMMON = ["listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "controller.listener.names=CONTROLLER", "inter.broker.listener.name=PLAINTEXT"]
CONVERGED = ["process.roles=broker,controller",
             "listeners=SSL://127.0.1.1:9093,CONTROLLER://127.0.1.1:9094",
             "advertised.listeners=SSL://kafka-1.lab.test:9093,CONTROLLER://kafka-1.lab.test:9094",
             "listener.security.protocol.map=CONTROLLER:SSL,SSL:SSL", "inter.broker.listener.name=SSL",
             "controller.listener.names=CONTROLLER", voters(9094)] + SSL_KEYS
DYNAMIC = "controller.quorum.bootstrap.servers=kafka-1.lab.test:9094,kafka-2.lab.test:9094"

FILES = {
    "combined-plain": props("process.roles=broker,controller",
                            "listeners=PLAINTEXT://127.0.1.1:9092,CONTROLLER://127.0.1.1:9094", ADV_PLAIN,
                            *PLAIN_COMMON, voters(9094)),
    "broker-plain": props("process.roles=broker", "listeners=PLAINTEXT://127.0.1.1:9092", ADV_PLAIN,
                          *PLAIN_COMMON, voters(9094)),
    "controller-plain": props("process.roles=controller", "listeners=CONTROLLER://127.0.1.1:9094",
                              *PLAIN_COMMON, voters(9094)),
    "combined-converged": props(*CONVERGED),
    "dynamic-plain": props("process.roles=broker,controller",
                           "listeners=PLAINTEXT://127.0.1.1:9092,CONTROLLER://127.0.1.1:9094", ADV_PLAIN,
                           *PLAIN_COMMON, DYNAMIC),
    "dynamic-converged": props(*[DYNAMIC if line.startswith("controller.quorum.voters=") else line
                                 for line in CONVERGED]),
    "combined-stage1": props("process.roles=broker,controller", STAGE_LISTENERS, STAGE_ADV, STAGE_MAP,
                             "controller.listener.names=CONTROLLER,CONTROLLER_SSL",
                             "inter.broker.listener.name=PLAINTEXT", voters(9094), *SSL_KEYS),
    "combined-stage2": props("process.roles=broker,controller", STAGE_LISTENERS, STAGE_ADV, STAGE_MAP,
                             "controller.listener.names=CONTROLLER_SSL,CONTROLLER",
                             "inter.broker.listener.name=SSL", voters(9095), *SSL_KEYS),
    "combined-stage3": props("process.roles=broker,controller",
                             "listeners=SSL://127.0.1.1:9093,CONTROLLER_SSL://127.0.1.1:9095",
                             "advertised.listeners=SSL://kafka-1.lab.test:9093,CONTROLLER_SSL://kafka-1.lab.test:9095",
                             "listener.security.protocol.map=CONTROLLER_SSL:SSL,SSL:SSL",
                             "controller.listener.names=CONTROLLER_SSL", "inter.broker.listener.name=SSL",
                             voters(9095), *SSL_KEYS),
    "broker-stage1": props("process.roles=broker",
                           "listeners=PLAINTEXT://127.0.1.1:9092,SSL://127.0.1.1:9093",
                           "advertised.listeners=PLAINTEXT://kafka-1.lab.test:9092,SSL://kafka-1.lab.test:9093",
                           STAGE_MAP, "controller.listener.names=CONTROLLER,CONTROLLER_SSL",
                           "inter.broker.listener.name=PLAINTEXT", voters(9094), *SSL_KEYS),
    "broker-stage2": props("process.roles=broker",
                           "listeners=PLAINTEXT://127.0.1.1:9092,SSL://127.0.1.1:9093",
                           "advertised.listeners=PLAINTEXT://kafka-1.lab.test:9092,SSL://kafka-1.lab.test:9093",
                           STAGE_MAP, "controller.listener.names=CONTROLLER_SSL,CONTROLLER",
                           "inter.broker.listener.name=SSL", voters(9095), *SSL_KEYS),
    "combined-emptyhost": props("process.roles=broker,controller", "listeners=PLAINTEXT://:9092,CONTROLLER://:9094",
                                ADV_PLAIN, *PLAIN_COMMON, voters(9094)),
    "combined-nolisteners": props("process.roles=broker,controller", *PLAIN_COMMON, voters(9094)),
    # The role had its SASL_SSL listener on (its listener-prefixed key): disabling it removes the keys.
    "combined-converged-sasl": props(*CONVERGED[:1],
                                     "listeners=SSL://127.0.1.1:9093,CONTROLLER://127.0.1.1:9094,SASL_SSL://127.0.1.1:9096",
                                     *CONVERGED[2:], "sasl.enabled.mechanisms=SCRAM-SHA-512",
                                     "listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512",
                                     "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
                                     "org.apache.kafka.common.security.scram.ScramLoginModule required;"),
    # sasl.enabled.mechanisms of the file's own (no listener-prefixed key): kept.
    "combined-converged-ownsasl": props(*CONVERGED, "sasl.enabled.mechanisms=GSSAPI"),
    "zk-plain": props("zookeeper.connect=zk-1.lab.test:2181", "listeners=PLAINTEXT://127.0.1.1:9092", ADV_PLAIN,
                      "inter.broker.listener.name=PLAINTEXT", node_id="broker.id=1"),
    "zk-converged": props("zookeeper.connect=zk-1.lab.test:2182,zk-2.lab.test:2190,zk-3.example.org:2182",
                          "listeners=SSL://127.0.1.1:9093", "advertised.listeners=SSL://kafka-1.lab.test:9093",
                          "listener.security.protocol.map=SSL:SSL", "inter.broker.listener.name=SSL",
                          *SSL_KEYS, "zookeeper.ssl.client.enable=true",
                          "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
                          "zookeeper.set.acl=true", node_id="broker.id=1"),
}

# --- Variable sets ------------------------------------------------------------------------------

MIG = {"kafkasec_broker_controller_listener_name": "CONTROLLER_SSL", "kafkasec_broker_controller_port": 9095}
ZK = {"kafkasec_broker_metadata_mode": "zookeeper", "kafkasec_broker_zookeeper_sasl_password": "zkpass"}
SASL = {"kafkasec_broker_sasl_enabled": True}
VARSETS = {
    "defaults": {},
    "add_tls": dict(MIG, kafkasec_broker_migration_phase="add_tls"),
    "move_internal": dict(MIG, kafkasec_broker_migration_phase="move_internal"),
    "drop_plaintext": dict(MIG, kafkasec_broker_migration_phase="drop_plaintext", kafkasec_broker_keep_plaintext=False),
    "migrated": dict(MIG),  # site.yml after the migration (the inventory names CONTROLLER_SSL, 9095)
    "migrated_keep_plaintext": dict(MIG, kafkasec_broker_keep_plaintext=True),
    "add_tls_sasl": dict(MIG, **SASL, kafkasec_broker_migration_phase="add_tls"),
    "keep_plaintext": {"kafkasec_broker_keep_plaintext": True},
    "sasl": SASL,
    "sasl_plain_users": dict(SASL, kafkasec_broker_sasl_mechanisms=["PLAIN", "SCRAM-SHA-256"],
                             kafkasec_broker_sasl_plain_users={"alice": 'a"b\\c', "bob": "pw ${x}"}),
    "pem": {"kafkasec_keystore_type": "pem", "kafkasec_truststore_type": "pem"},
    "jks": {"kafkasec_keystore_type": "jks"},
    "pki_dir": {"kafkasec_pki_dir": "/opt/kafka/pki"},
    "keystore_path": {"kafkasec_keystore_path": "/srv/tls/kafka-1.keystore.p12"},
    "listen_any": {"kafkasec_broker_listen_address": "0.0.0.0"},
    "advertised_other_in_sans": {"kafkasec_broker_advertised_host": "other.lab.test",
                                 "kafkasec_cert_extra_dns_names": ["other.lab.test"]},
    "advertised_other_not_in_sans": {"kafkasec_broker_advertised_host": "other.lab.test"},
    "advertised_ip_in_sans": {"kafkasec_broker_advertised_host": "127.0.1.1", "kafkasec_cert_ip_addresses": ["127.0.1.1"]},
    "advertised_ip_not_in_sans": {"kafkasec_broker_advertised_host": "127.0.1.1"},
    "wildcard_san": {"kafkasec_cert_dns_names": ["*.lab.test"]},
    "wildcard_san_other": {"kafkasec_cert_dns_names": ["*.lab.test"], "kafkasec_broker_advertised_host": "other.lab.test"},
    "extra_properties": {"kafkasec_broker_extra_properties": {"ssl.engine.factory.class": "x.Y", "num.network.threads": 5}},
    "no_cipher_suites": {"kafkasec_broker_ssl_cipher_suites": []},
    "tls12_only": {"kafkasec_broker_ssl_enabled_protocols": ["TLSv1.2"], "kafkasec_broker_ssl_protocol": "TLSv1.2"},
    "client_auth_requested": {"kafkasec_broker_ssl_client_auth": "requested"},
    "zk": dict(ZK),
    "zk_connect_list": dict(ZK, kafkasec_broker_zookeeper_connect=["zk-a.lab.test:2182", "zk-b.lab.test:2183"]),
    "zk_connect_string": dict(ZK, kafkasec_broker_zookeeper_connect="zk-a.lab.test:2182,zk-b.lab.test:2183"),
    "zk_chroot": dict(ZK, kafkasec_broker_zookeeper_chroot="/kafka"),
    "zk_no_acl": dict(ZK, kafkasec_broker_zookeeper_set_acl=False),
    "zk_pem": dict(ZK, kafkasec_keystore_type="pem", kafkasec_truststore_type="pem"),
    "zk_keep_plaintext": dict(ZK, kafkasec_broker_keep_plaintext=True),
    "zk_sasl": dict(ZK, **SASL),
    "zk_add_tls": dict(ZK, **MIG, kafkasec_broker_migration_phase="add_tls"),
    "zk_move_internal": dict(ZK, **MIG, kafkasec_broker_migration_phase="move_internal"),
    "zk_drop_plaintext": dict(ZK, **MIG, kafkasec_broker_migration_phase="drop_plaintext", kafkasec_broker_keep_plaintext=False),
}

MIGRATION = ["add_tls", "move_internal", "drop_plaintext"]
MATRIX = {  # file -> variable sets (every file with the defaults)
    "combined-plain": ["defaults", *MIGRATION, "add_tls_sasl", "keep_plaintext", "sasl", "sasl_plain_users",
                       "listen_any", "advertised_other_in_sans", "advertised_other_not_in_sans",
                       "advertised_ip_in_sans", "advertised_ip_not_in_sans", "wildcard_san", "wildcard_san_other"],
    "broker-plain": ["defaults", *MIGRATION, "sasl"],
    "controller-plain": ["defaults", *MIGRATION, "keep_plaintext"],
    "combined-converged": ["defaults", "migrated", "keep_plaintext", "sasl", "pem", "jks", "pki_dir", "keystore_path",
                           "listen_any", "extra_properties", "no_cipher_suites", "tls12_only",
                           "client_auth_requested", "advertised_other_in_sans", "add_tls"],
    "dynamic-plain": ["defaults", *MIGRATION],
    "dynamic-converged": ["defaults", "migrated"],
    "combined-stage1": ["defaults", *MIGRATION, "migrated"],
    "combined-stage2": ["defaults", *MIGRATION, "migrated"],
    "combined-stage3": ["defaults", *MIGRATION, "migrated", "migrated_keep_plaintext"],
    "broker-stage1": ["defaults", *MIGRATION],
    "broker-stage2": ["defaults", *MIGRATION, "migrated"],
    "combined-emptyhost": ["defaults", "add_tls", "listen_any"],
    "combined-nolisteners": ["defaults", "add_tls"],
    "combined-converged-sasl": ["defaults", "sasl"],
    "combined-converged-ownsasl": ["defaults"],
    "zk-plain": ["defaults", "zk", "zk_connect_list", "zk_connect_string", "zk_chroot", "zk_no_acl", "zk_pem",
                 "zk_keep_plaintext", "zk_sasl", "zk_add_tls", "zk_move_internal", "zk_drop_plaintext"],
    "zk-converged": ["defaults", "zk", "zk_add_tls"],
}


def inventory_groups(file_name):
    """The inventory groups of a case: kafka-2/3 are combined nodes, kafka-1 has the file's roles."""
    groups = {"kafka_ca": ["ca.lab.test"]}
    if file_name.startswith("zk-"):
        return dict(groups, kafka_broker=list(NODES), zookeeper=list(ZK_NODES))
    roles = [line.split("=", 1)[1] for line in FILES[file_name].splitlines() if line.startswith("process.roles=")][0]
    groups["kafka_broker"] = [n for n in NODES if n != HOST or "broker" in roles]
    groups["kafka_controller"] = [n for n in NODES if n != HOST or "controller" in roles]
    return groups


# --- Running the old code -------------------------------------------------------------------------

class Unsafe(str):
    pass


class Dumper(yaml.SafeDumper):
    pass


Dumper.add_representer(Unsafe, lambda dumper, data: dumper.represent_scalar("!unsafe", str(data), style='"'))


def unsafe(value):
    if isinstance(value, str):
        return Unsafe(value)
    if isinstance(value, dict):
        return {str(k): unsafe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unsafe(v) for v in value]
    return value


def find_task(tasks, name):
    for task in tasks:
        if task.get("name") == name:
            return task
        for key in ("block", "rescue", "always"):
            found = find_task(task.get(key) or [], name)
            if found:
                return found
    return None


def playbook(old):
    """The play: the old defaults and vars, validate.yml's parse, one debug of config.yml's settings."""
    tasks = old / "roles/broker/tasks"
    parse = find_task(yaml.safe_load((tasks / "validate.yml").read_text()), "Parse server.properties")
    merge = find_task(yaml.safe_load((tasks / "config.yml").read_text()),
                      "Merge the TLS settings into server.properties (store passwords hidden)")
    settings = merge["vars"]["kafkasec_broker__settings"]
    derived = {name: "{{ kafkasec_broker__%s }}" % name for name in DERIVED}
    return [{
        "name": "golden", "hosts": HOST, "gather_facts": False, "connection": "local",
        "vars": {"role_path": str(old / "roles/broker")},
        "vars_files": [str(old / "roles/broker/defaults/main.yml"), str(old / "roles/broker/vars/main.yml")],
        "tasks": [
            {"name": "parse", "ansible.builtin.set_fact": parse["ansible.builtin.set_fact"]},
            {"name": "plan", "ansible.builtin.debug": {"msg": {
                "current_parsed": "{{ kafkasec_broker__current }}", "settings": settings, "derived": derived}}},
        ],
    }]


def run_case(workdir, case, ansible_playbook, env):
    name, file_name, varset = case
    case_dir = workdir / name
    case_dir.mkdir()
    groups = inventory_groups(file_name)
    hostvars = {h: v for h, v in ZK_HOSTVARS.items() if h in groups.get("zookeeper", [])}
    children = {g: {"hosts": {h: dict(hostvars.get(h, {})) for h in hosts}} for g, hosts in groups.items()}
    (case_dir / "inventory.yml").write_text(yaml.safe_dump({"all": {"children": children}}))
    current = FILES[file_name]
    extra = dict(VARSETS[varset], kafkasec_keystore_password_resolved=KPASS, kafkasec_truststore_password_resolved=TPASS,
                 kafkasec_broker__slurp={"content": base64.b64encode(current.encode()).decode()})
    (case_dir / "extra.yml").write_text(yaml.dump(unsafe(extra), Dumper=Dumper, sort_keys=True))
    proc = subprocess.run([ansible_playbook, "-i", str(case_dir / "inventory.yml"), "-e", "@" + str(case_dir / "extra.yml"),
                           str(workdir / "play.yml")], cwd=str(case_dir), env=env, capture_output=True, text=True,
                          check=False)
    results = [json.loads(line[len(MARK):]) for line in proc.stdout.splitlines() if line.startswith(MARK)]
    record = {"vars": VARSETS[varset], "current": current, "hostname": HOST, "groups": groups, "hostvars": hostvars}
    if not results:
        raise RuntimeError("%s: no task result (rc %s)\n%s\n%s" % (name, proc.returncode, proc.stdout, proc.stderr))
    last = results[-1]
    if last["failed"]:
        record["error"] = last.get("msg", "").split("\n\nThe error appears to be in")[0]  # no temp paths
    else:
        record.update(last["msg"])
    return name, record


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, default=Path("/tmp/oldbroker"), help="the pre-planner tree")
    parser.add_argument("--collections", default="/tmp/oldcoll", help="ANSIBLE_COLLECTIONS_PATH with kafkasec.tls -> --old")
    parser.add_argument("--output", type=Path, default=HERE / "broker_plans.json")
    parser.add_argument("--jobs", type=int, default=max(2, os.cpu_count() or 2))
    args = parser.parse_args()
    old = args.old.resolve()
    linked = Path(args.collections, "ansible_collections/kafkasec/tls").resolve()
    if linked != old:
        sys.exit("%s/ansible_collections/kafkasec/tls must link to %s (it is %s)" % (args.collections, old, linked))
    cases = [("%s__%s" % (f, v), f, v) for f, varsets in MATRIX.items() for v in varsets]
    ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="broker-golden-") as tmp:
        workdir = Path(tmp)
        (workdir / "callback_plugins").mkdir()
        (workdir / "callback_plugins" / "golden.py").write_text(CALLBACK)
        (workdir / "play.yml").write_text(yaml.safe_dump(playbook(old), sort_keys=False, width=1000))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=args.collections,
                   ANSIBLE_CALLBACK_PLUGINS=str(workdir / "callback_plugins"), ANSIBLE_STDOUT_CALLBACK="golden",
                   ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            plans = dict(pool.map(lambda case: run_case(workdir, case, ansible_playbook, env), cases))
    args.output.write_text(json.dumps(plans, sort_keys=True, indent=1, ensure_ascii=False) + "\n")
    errors = sorted(name for name, plan in plans.items() if "error" in plan)
    print("%d cases, %d errors, %.0f s -> %s" % (len(plans), len(errors), time.monotonic() - started, args.output))
    for name in errors:
        print("  %s: %s" % (name, plans[name]["error"][:200]))


if __name__ == "__main__":
    main()
