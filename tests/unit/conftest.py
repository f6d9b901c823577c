"""Make the repository importable as ansible_collections.kafkasec.tls, as Ansible sees it."""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(REPO, ".build", "collections")
_link = os.path.join(COLLECTIONS, "ansible_collections", "kafkasec", "tls")
if not os.path.islink(_link) and not os.path.isdir(_link):
    os.makedirs(os.path.dirname(_link), exist_ok=True)
    os.symlink(REPO, _link)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS)


import shutil as _shutil
import subprocess as _subprocess
import tempfile as _tempfile

import pytest as _pytest


@_pytest.fixture(scope="session")
def jvm_ssl_dump():
    """tests/unit/java/JvmSslDump.java compiled once; the directory to put on java's class path."""
    target = _tempfile.mkdtemp(prefix="kafkasec-jvmssl-")
    _subprocess.run(["javac", "-nowarn", "-d", target,
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "java", "JvmSslDump.java")],
                    check=True, capture_output=True, timeout=600)
    yield target
    _shutil.rmtree(target, True)
