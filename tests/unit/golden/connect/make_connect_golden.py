# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record worker_golden.json: what the Jinja implementation of kafkasec.tls.connect wrote and refused.

Kept for the record. This script was run ONCE, before the Connect planner replaced that Jinja (commit
1d446e7: roles/connect/vars/main.yml, tasks/validate.yml, tasks/config.yml, tasks/jvm.yml,
tasks/restart.yml and templates/connect/*.j2 as they were then); worker_golden.json next to it is its
output, the golden cases tests/unit/test_connect_plan.py and tests/unit/test_templates_connect.py test
the planner, the module and the new templates against. Running it again needs that old code, checked
out on its own and linked as a collection (as tests/unit/golden/make_broker_golden.py explains):

    .venv/bin/python tests/unit/golden/connect/make_connect_golden.py --old <old checkout> --collections <dir>

One ansible-playbook run on local "hosts", one per case (the case's name is the worker's inventory
name), in group kafka_connect beside three brokers of group kafka_broker that are only inventory. The
role's defaults are the inventory's group vars (lowest), the case's variables its host vars (every
string !unsafe, as a vault would hand them), the old vars/main.yml the play's vars_files. Per case:

- each assert of the old tasks/validate.yml is evaluated, one debug task per assert (its ``that``
  read from the file, not copied), after the file's own stat task: pass, fail or the error;
- for the cases that render (``render``), the old tasks/config.yml and tasks/jvm.yml run as they are
  (kafkasec.tls.properties merging the rendered YAML into the case's worker file, the JVM files
  written by ansible.builtin.template), then tasks/restart.yml (no restart command: it only reports);
  then all three again, as a second run does. The registered results are read back with debug
  (no_log hides them from the callback, not from the registered variables).

Output per case: vars (the case's variables), hostname, file_before, checks, derived, and for
rendering cases settings (the YAML block as [key, value] pairs, in order), merge (changed and key
lists), file_after, env, args (the JVM files), reasons (kafkasec_connect__restart_reasons) and
restart_reasons (kafkasec_connect_restart_reasons), each for the first and the second run. The
temporary directory the case files live in is written as @TMP@.
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

from ansible_runner import _Dumper, _mark_unsafe  # noqa: E402  pylint: disable=wrong-import-position

MARK = "KAFKASEC-CONNECT-GOLDEN "
TMP = "@TMP@"
# Passwords a vault may hold (ASCII: the java argument file takes printable ASCII only).
KPASS = 'ks p"w\\;=#!:{{ not.jinja }}'
TPASS = "ts=pw;\\\\ $HOME 'q' @x"
UNICODE_TPASS = "ts=pw;\\\\ caf\u00e9"

BROKERS = {
    "kafka-1.lab.test": {},
    "kafka-2.lab.test": {"kafkasec_broker_keep_plaintext": True, "kafkasec_broker_ssl_port": 19093,
                         "kafkasec_broker_advertised_host": "kafka-2.example.org"},
    "kafka-3.lab.test": {"kafkasec_broker_controller_port": 9095, "kafkasec_cert_extra_dns_names": ["k3.example.org"],
                         "ansible_host": "10.0.0.3"},
}

WORKER_FILE = (
    "# The worker as it was installed\n"
    "bootstrap.servers=kafka-1.lab.test:9092\n"
    "group.id=connect-cluster\n"
    "config.storage.topic=connect-configs\n"
    "! another comment style\n"
    "listeners=http://:8083\n"
    "producer.ssl.key.password=stale\n"
    "key.converter=org.apache.kafka.connect.json.JsonConverter\n"
)

CALLBACK = '''
import json
from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase
from ansible.vars.clean import module_response_deepcopy, strip_internal_keys

class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "connect_golden"

    def _emit(self, result, status):
        data = strip_internal_keys(module_response_deepcopy(result._result))
        self._display.display(%r + json.dumps(dict(host=result._host.get_name(), task=result._task.get_name(),
                                                    status=status, result=data), cls=AnsibleJSONEncoder))

    def v2_runner_on_ok(self, result):
        self._emit(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._emit(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._emit(result, "skipped")
''' % MARK


def pki(keystore_type="pkcs12", truststore_type="pkcs12", kpass=KPASS, tpass=TPASS, **extra):
    ext = {"pkcs12": "p12", "pem": "pem", "jks": "jks"}
    value = dict(keystore_type=keystore_type, keystore_path="/etc/kafka/pki/keystore.%s" % ext[keystore_type],
                 keystore_password=None if keystore_type == "pem" else kpass,
                 truststore_type=truststore_type, truststore_path="/etc/kafka/pki/truststore.%s" % ext[truststore_type],
                 truststore_password=None if truststore_type == "pem" else tpass,
                 keystore_changed=False, truststore_changed=False, pki_dir="/etc/kafka/pki",
                 ca_chain_path="/etc/kafka/pki/ca-chain.crt")
    value.update(extra)
    return value


# name -> (variables, options). Options: render (run config/jvm/restart), file (the worker file's text;
# None: no file; "dir": a directory), marker (a pending-restart record's text).
CASES = {
    # --- rendering: stores, JVM stores, client auth, bootstrap forms, REST listener, extra properties
    "pkcs12": ({"kafkasec_pki": pki()}, dict(render=True)),
    "pkcs12-changed-stores": ({"kafkasec_pki": pki(keystore_changed=True, truststore_changed=True)}, dict(render=True)),
    "jks": ({"kafkasec_pki": pki("jks", "jks")}, dict(render=True)),
    "pem-nojvm": ({"kafkasec_pki": pki("pem", "pem"), "kafkasec_connect_jvm_stores": False}, dict(render=True)),
    "pkcs12-jks": ({"kafkasec_pki": pki("pkcs12", "jks")}, dict(render=True)),
    "jks-pem-nojvm": ({"kafkasec_pki": pki("jks", "pem"), "kafkasec_connect_jvm_stores": False}, dict(render=True)),
    "unicode-nojvm": ({"kafkasec_pki": pki(tpass=UNICODE_TPASS), "kafkasec_connect_jvm_stores": False},
                      dict(render=True)),
    "auth-requested": ({"kafkasec_pki": pki(), "kafkasec_connect_rest_client_auth": "requested"}, dict(render=True)),
    "auth-none-jks": ({"kafkasec_pki": pki("jks", "pkcs12"), "kafkasec_connect_rest_client_auth": "none"},
                      dict(render=True)),
    "bootstrap-string": ({"kafkasec_pki": pki(),
                          "kafkasec_connect_bootstrap_servers": " kafka-1.lab.test:9093 , kafka-2.example.org:19093,, "},
                         dict(render=True)),
    "bootstrap-list": ({"kafkasec_pki": pki(),
                        "kafkasec_connect_bootstrap_servers": ["kafka-3.lab.test:9093", "SSL://k3.example.org:9093",
                                                               "elsewhere.example.com:9092"]}, dict(render=True)),
    "rest-any-interface": ({"kafkasec_pki": pki(), "kafkasec_connect_rest_listen_host": "",
                            "kafkasec_connect_rest_port": "9443"}, dict(render=True)),
    "rest-ipv6": ({"kafkasec_pki": pki(), "kafkasec_connect_rest_listen_host": "::1",
                   "kafkasec_connect_rest_advertised_host": "fd00::5", "kafkasec_cert_ip_addresses": ["fd00::5"]},
                  dict(render=True)),
    "tls12-only": ({"kafkasec_pki": pki(), "kafkasec_connect_ssl_enabled_protocols": ["TLSv1.2"],
                    "kafkasec_connect_ssl_protocol": "TLSv1.2"}, dict(render=True)),
    "extra-properties": ({"kafkasec_pki": pki(), "kafkasec_connect_extra_properties": {
        "ssl.cipher.suites": "TLS_AES_256_GCM_SHA384", "listeners.https.ssl.client.auth": "none",
        "group.id": "", "offset.flush.interval.ms": 10000, "producer.enable.idempotence": True,
        "consumer.ssl.protocol": "TLSv1.2", "config.providers": ["file", "env"], "key with=odd:chars": "v#1"}},
        dict(render=True)),
    "kafka-opts-extra": ({"kafkasec_pki": pki(), "kafkasec_connect_kafka_opts_extra": ["-Xmx1g", "-Dfoo=bar,baz"]},
                         dict(render=True)),
    "pending-marker": ({"kafkasec_pki": pki(keystore_changed=True)},
                       dict(render=True, marker='{"reasons": ["keystore changed", "an earlier run"]}')),
    "crlf-file": ({"kafkasec_pki": pki()}, dict(render=True, file=WORKER_FILE.replace("\n", "\r\n"))),
    "empty-file": ({"kafkasec_pki": pki()}, dict(render=True, file="")),
    # --- validation only (the old asserts, one by one)
    "v-bootstrap-plaintext": ({"kafkasec_connect_bootstrap_servers": "kafka-1.lab.test:9092"}, {}),
    "v-bootstrap-controller": ({"kafkasec_connect_bootstrap_servers": ["kafka-3.lab.test:9095", "kafka-1.lab.test:9093"]}, {}),
    "v-bootstrap-advertised-plaintext": ({"kafkasec_connect_bootstrap_servers": "kafka-2.example.org:9092"}, {}),
    "v-bootstrap-ansible-host": ({"kafkasec_connect_bootstrap_servers": "10.0.0.3:9092"}, {}),
    "v-bootstrap-prefix": ({"kafkasec_connect_bootstrap_servers": "PLAINTEXT://other.example.com:9093"}, {}),
    "v-bootstrap-sasl-prefix-ok": ({"kafkasec_connect_bootstrap_servers": "SASL_SSL://kafka-1.lab.test:9093"}, {}),
    "v-bootstrap-unknown-host": ({"kafkasec_connect_bootstrap_servers": "elsewhere:9092"}, {}),
    "v-bootstrap-empty-list": ({"kafkasec_connect_bootstrap_servers": []}, {}),
    "v-bootstrap-empty-string": ({"kafkasec_connect_bootstrap_servers": " , "}, {}),
    "v-bootstrap-no-port": ({"kafkasec_connect_bootstrap_servers": "kafka-1.lab.test"}, {}),
    "v-protocols-empty": ({"kafkasec_connect_ssl_enabled_protocols": []}, {}),
    "v-protocols-tls11": ({"kafkasec_connect_ssl_enabled_protocols": ["TLSv1.3", "TLSv1.1"]}, {}),
    "v-protocol-not-enabled": ({"kafkasec_connect_ssl_enabled_protocols": ["TLSv1.3"],
                                "kafkasec_connect_ssl_protocol": "TLSv1.2"}, {}),
    "v-client-auth": ({"kafkasec_connect_rest_client_auth": "want"}, {}),
    "v-rest-host-not-in-sans": ({"kafkasec_connect_rest_advertised_host": "other.example.com"}, {}),
    "v-rest-host-extra-dns": ({"kafkasec_connect_rest_advertised_host": "connect.example.org",
                               "kafkasec_cert_extra_dns_names": ["connect.example.org"]}, {}),
    "v-rest-host-upper": ({"kafkasec_connect_rest_advertised_host": "V-REST-HOST-UPPER.Connect.Test"}, {}),
    "v-rest-host-wildcard": ({"kafkasec_connect_rest_advertised_host": "w1.connect.test",
                              "kafkasec_cert_dns_names": ["*.connect.test"]}, {}),
    "v-rest-host-wildcard-deep": ({"kafkasec_connect_rest_advertised_host": "a.b.connect.test",
                                   "kafkasec_cert_dns_names": ["*.connect.test"]}, {}),
    "v-rest-host-ip": ({"kafkasec_connect_rest_advertised_host": "10.0.0.5",
                        "kafkasec_cert_ip_addresses": ["10.0.0.5"]}, {}),
    "v-rest-host-ip-missing": ({"kafkasec_connect_rest_advertised_host": "10.0.0.6",
                                "kafkasec_cert_ip_addresses": ["10.0.0.5"]}, {}),
    "v-jvm-pem-keystore": ({"kafkasec_pki": pki("pem", "pkcs12")}, {}),
    "v-jvm-pem-truststore-var": ({"kafkasec_truststore_type": "pem"}, {}),
    "v-jvm-off-pem": ({"kafkasec_pki": pki("pem", "pem"), "kafkasec_connect_jvm_stores": False}, {}),
    "v-restart-timeout-zero": ({"kafkasec_connect_health_timeout": 0}, {}),
    "v-restart-timeout-text": ({"kafkasec_connect_health_timeout": "5m"}, {}),
    "v-restart-timeout-string-ok": ({"kafkasec_connect_health_timeout": "30",
                                     "kafkasec_connect_restart_command": "systemctl restart kafka-connect"}, {}),
    "v-restart-command-list": ({"kafkasec_connect_restart_command": ["systemctl", "restart"]}, {}),
    "v-relative-env-file": ({"kafkasec_connect_env_file": "connect-tls.env"}, {}),
    "v-relative-args-file": ({"kafkasec_connect_jvm_args_file": "etc/connect-jvm-ssl.args"}, {}),
    "v-properties-missing": ({}, dict(file=None)),
    "v-properties-dir": ({}, dict(file="dir")),
}


def load_tasks(path: Path):
    return yaml.safe_load(path.read_text())


def find_task(tasks, name):
    for task in tasks:
        if task.get("name") == name:
            return task
        for inner in task.get("block", []) + task.get("rescue", []):
            if inner.get("name") == name:
                return inner
    raise KeyError(name)


def build(old: Path, tmp: Path):
    role = old / "roles" / "connect"
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
    validate = load_tasks(role / "tasks" / "validate.yml")
    block = validate[0]["block"]
    stat_task = find_task(validate, "Look for the worker's properties file")
    asserts = [t for t in block if "ansible.builtin.assert" in t]
    hosts = {}
    for name, (variables, options) in CASES.items():
        host = "%s.connect.test" % name
        case_dir = tmp / name
        case_dir.mkdir()
        properties = case_dir / "connect-distributed.properties"
        text = options.get("file", WORKER_FILE)
        if text == "dir":
            properties.mkdir()
        elif text is not None:
            properties.write_bytes(text.encode("latin-1"))
        if options.get("marker"):
            (case_dir / "connect-distributed.properties.kafkasec-restart-pending").write_text(options["marker"])
        host_vars = {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "kafkasec_connect_properties_path": str(properties),
            "kafkasec_connect_env_file": str(case_dir / "connect-tls.env"),
            "kafkasec_connect_jvm_args_file": str(case_dir / "connect-jvm-ssl.args"),
        }
        host_vars.update(_mark_unsafe(variables))
        hosts[host] = host_vars
    inventory = {"all": {"vars": defaults, "children": {
        "kafka_broker": {"hosts": {h: dict(v, ansible_connection="local") for h, v in BROKERS.items()}},
        "kafka_connect": {"hosts": hosts},
        "render": {"hosts": {"%s.connect.test" % n: {} for n, (_, o) in CASES.items() if o.get("render")}},
    }}}
    checks = []
    for task in asserts:
        condition = " and ".join("((%s))" % str(c).strip() for c in task["ansible.builtin.assert"]["that"])
        checks.append({"name": "check: %s" % task["name"],
                       "ansible.builtin.debug": {"msg": "{{ (%s) | ternary('pass', 'fail') }}" % condition},
                       "ignore_errors": True})
    derived_expr = "{%s}" % ", ".join("%s: %s" % (json.dumps(k), v) for k, v in [
        ("bootstrap_servers", "kafkasec_connect__bootstrap_servers"),
        ("bootstrap_problems", "kafkasec_connect__bootstrap_problems"),
        ("rest_host_in_sans", "kafkasec_connect__rest_host_in_sans"),
        ("rest_listener", "kafkasec_connect__rest_listener"),
        ("rest_url", "kafkasec_connect__rest_url"),
        ("health_retries", "kafkasec_connect__health_retries"),
    ])
    derived = {"name": "derived", "ignore_errors": True, "ansible.builtin.debug": {"msg": "{{ %s }}" % derived_expr}}
    config = str(role / "tasks" / "config.yml")
    jvm = str(role / "tasks" / "jvm.yml")
    restart = str(role / "tasks" / "restart.yml")
    config_tasks = load_tasks(role / "tasks" / "config.yml")
    settings_expr = find_task(config_tasks, "Merge the TLS settings into the worker's properties (store passwords hidden)")[
        "vars"]["kafkasec_connect__settings"].strip()

    def one_run(tag):
        jvm_on = "kafkasec_connect_jvm_stores | bool"
        return [
            {"name": "settings %s" % tag, "ansible.builtin.debug": {
                "msg": "{{ (%s) | dict2items }}" % settings_expr.replace("{{", "").replace("}}", "").strip()}},
            {"name": "config %s" % tag, "ansible.builtin.include_tasks": config},
            {"name": "jvm %s" % tag, "ansible.builtin.include_tasks": jvm, "when": jvm_on},
            {"name": "restart %s" % tag, "ansible.builtin.include_tasks": restart},
            {"name": "slurp properties %s" % tag, "register": "golden_properties",
             "ansible.builtin.slurp": {"src": "{{ kafkasec_connect_properties_path }}"}},
            {"name": "slurp env %s" % tag, "register": "golden_env", "when": jvm_on,
             "ansible.builtin.slurp": {"src": "{{ kafkasec_connect_env_file }}"}},
            {"name": "slurp args %s" % tag, "register": "golden_args", "when": jvm_on,
             "ansible.builtin.slurp": {"src": "{{ kafkasec_connect_jvm_args_file }}"}},
            {"name": "outcome %s" % tag, "ansible.builtin.debug": {"msg": {
                "merge": "{{ kafkasec_connect__merge | dict2items | selectattr('key', 'in', ['changed', 'changed_keys', "
                         "'added_keys', 'updated_keys', 'removed_keys']) | items2dict }}",
                "reasons": "{{ kafkasec_connect__restart_reasons }}",
                "restart_reasons": "{{ kafkasec_connect_restart_reasons }}",
                "restart_needed": "{{ kafkasec_connect_restart_needed }}",
                "file_after": "{{ golden_properties.content }}",
                "env": "{{ golden_env.content | default('') }}",
                "args": "{{ golden_args.content | default('') }}",
            }}},
        ]

    play = [
        {"name": "checks", "hosts": "kafka_connect", "gather_facts": False,
         "vars_files": [str(role / "vars" / "main.yml")], "vars": {"role_path": str(role)},
         "tasks": [stat_task] + checks + [derived]},
        {"name": "render", "hosts": "render", "gather_facts": False,
         "vars_files": [str(role / "vars" / "main.yml")], "vars": {"role_path": str(role)},
         "tasks": one_run("first") + one_run("second")},
    ]
    return inventory, play


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout of the old code")
    parser.add_argument("--collections", type=Path, required=True, help="dir with ansible_collections/kafkasec/tls -> --old")
    parser.add_argument("--out", type=Path, default=HERE / "worker_golden.json")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="connect-golden-")).resolve()
    inventory, play = build(args.old.resolve(), tmp)
    (tmp / "callback_plugins").mkdir()
    (tmp / "callback_plugins" / "connect_golden.py").write_text(CALLBACK)
    (tmp / "inventory.yml").write_text(yaml.dump(inventory, Dumper=_Dumper, sort_keys=False))
    (tmp / "play.yml").write_text(yaml.dump(play, Dumper=_Dumper, sort_keys=False))
    before = {name: (tmp / name / "connect-distributed.properties") for name in CASES}
    file_before = {name: (p.read_bytes().decode("latin-1") if p.is_file() else None) for name, p in before.items()}
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(args.collections), ANSIBLE_STDOUT_CALLBACK="connect_golden",
               ANSIBLE_CALLBACK_PLUGINS=str(tmp / "callback_plugins"), ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORKS="4", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_HOST_PATTERN_MISMATCH="ignore")
    playbook = Path(sys.executable).parent / "ansible-playbook"
    proc = subprocess.run([str(playbook), "-i", str(tmp / "inventory.yml"), str(tmp / "play.yml")],
                          cwd=str(tmp), env=env, capture_output=True, text=True, check=False)
    (tmp / "stdout.log").write_text(proc.stdout)
    events = [json.loads(line[len(MARK):]) for line in proc.stdout.splitlines() if line.startswith(MARK)]
    if not events:
        raise SystemExit("no result from ansible-playbook:\n%s\n%s" % (proc.stdout, proc.stderr))

    def untmp(value):
        if isinstance(value, str):
            return value.replace(str(tmp), TMP)
        if isinstance(value, list):
            return [untmp(v) for v in value]
        if isinstance(value, dict):
            return {k: untmp(v) for k, v in value.items()}
        return value

    golden = {}
    for name, (variables, options) in CASES.items():
        host = "%s.connect.test" % name
        mine = [e for e in events if e["host"] == host]
        entry = {"vars": variables, "hostname": host, "render": bool(options.get("render")),
                 "file_before": file_before[name], "marker": options.get("marker"), "checks": {}}
        if options.get("file", "") is None:
            entry["file"] = "missing"
        elif options.get("file") == "dir":
            entry["file"] = "directory"
        for event in mine:
            task, result = event["task"], event["result"]
            if task.startswith("check: "):
                entry["checks"][task[len("check: "):]] = (result["msg"] if event["status"] == "ok"
                                                          else "error: %s" % result.get("msg", ""))
            elif task == "derived":
                entry["derived"] = result["msg"] if event["status"] == "ok" else {"error": result.get("msg", "")}
            elif event["status"] == "failed":
                entry.setdefault("failures", []).append("%s: %s" % (task, result.get("msg", "")))
            elif task.startswith("settings "):
                entry.setdefault("runs", {}).setdefault(task.split()[1], {})["settings"] = [
                    [item["key"], item["value"]] for item in result["msg"]]
            elif task.startswith("outcome "):
                run = entry.setdefault("runs", {}).setdefault(task.split()[1], {})
                msg = dict(result["msg"])
                for key in ("file_after", "env", "args"):
                    msg[key] = base64.b64decode(msg[key]).decode("latin-1" if key == "file_after" else "utf-8")
                run.update(msg)
        golden[name] = untmp(entry)
    args.out.write_text(json.dumps(golden, indent=1, ensure_ascii=True) + "\n")
    print("%d cases -> %s (rc=%d)" % (len(golden), args.out, proc.returncode))
    bad = [n for n, e in golden.items() if e["render"] and ("runs" not in e or "failures" in e)]
    if bad:
        print("rendering cases that failed: %s" % bad)
        print(proc.stdout[-4000:], proc.stderr[-4000:])


if __name__ == "__main__":
    main()
