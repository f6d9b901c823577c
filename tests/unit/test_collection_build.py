"""The collection builds into a tarball that installs, and every module's docs render from the installed copy."""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
MODULES = ("ca", "certificate_request", "sign", "keystore", "truststore", "store_password", "properties", "tls_probe",
           "kafka_roundtrip")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(out),
                    REPO], check=True, capture_output=True)
    tarballs = list(out.glob("kafkasec-tls-*.tar.gz"))
    assert len(tarballs) == 1
    target = tmp_path_factory.mktemp("collections")
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "--force", "-p", str(target),
                    str(tarballs[0])], check=True, capture_output=True)
    return target


def test_tarball_installs_and_leaves_lab_state_out(installed):
    root = installed / "ansible_collections" / "kafkasec" / "tls"
    manifest = json.loads((root / "MANIFEST.json").read_text())
    assert manifest["collection_info"]["namespace"] == "kafkasec"
    assert not (root / "lab" / "lib").exists() and not (root / ".venv").exists()
    assert not (root / "lab" / "lib-zk").exists()


@pytest.mark.parametrize("module", MODULES)
def test_module_docs_render_from_installed_copy(installed, module):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(installed))
    result = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", "module", "--json", "kafkasec.tls." + module],
                            env=env, capture_output=True, text=True, check=True)
    doc = json.loads(result.stdout)["kafkasec.tls." + module]
    assert doc["doc"]["short_description"]
    assert doc["examples"].strip() and doc["return"]
    assert doc["doc"]["collection"] == "kafkasec.tls"
