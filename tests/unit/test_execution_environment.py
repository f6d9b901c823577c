"""The execution environment: `ansible-builder create` renders the build context of
docs/execution-environment/execution-environment.yml (no container engine needed), and the collection in that
context declares its Python and system needs through meta/execution-environment.yml the way ansible-builder's own
introspection (the script the image build runs, taken from the rendered context) reads them.

ansible-builder comes from requirements.txt (make deps), next to the running Python.
"""
import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EE_DIR = REPO / "docs" / "execution-environment"


def _name(requirement):
    """'confluent-kafka>=2.6' -> 'confluent-kafka' (PEP 503 normalised)."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0]).lower()


def _lines(path):
    return [line.split("#", 1)[0].strip() for line in Path(path).read_text().splitlines()
            if line.split("#", 1)[0].strip()]


def _collection_version():
    return yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The rendered build context: a copy of docs/execution-environment/ plus the collection's tarball."""
    builder = BIN / "ansible-builder"
    assert builder.exists(), "ansible-builder is not installed next to %s: run make deps" % sys.executable
    ee = tmp_path_factory.mktemp("ee")
    for f in EE_DIR.iterdir():
        shutil.copy(f, ee / f.name)
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(ee), str(REPO)],
                   check=True, capture_output=True)
    out = ee / "context"
    result = subprocess.run([str(builder), "create", "-f", str(ee / "execution-environment.yml"), "-c", str(out),
                             "--output-filename", "Containerfile", "-v", "3"],
                            capture_output=True, text=True, cwd=ee)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def introspected(context, tmp_path_factory):
    """What the image build's introspection step finds: the collection installed from the tarball in the
    context, then the context's own introspect.py run on it, as the Containerfile's builder stage does."""
    target = tmp_path_factory.mktemp("collections")
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    tarball = context / "_build" / requirements["collections"][0]["name"]
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "--force", "-p", str(target),
                    str(tarball)], check=True, capture_output=True)
    pip_out, bindep_out = target / "requirements.txt", target / "bindep.txt"
    subprocess.run([sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect", "--sanitize",
                    str(target), "--write-pip", str(pip_out), "--write-bindep", str(bindep_out)],
                   check=True, capture_output=True, text=True)
    return pip_out.read_text().splitlines(), bindep_out.read_text().splitlines(), target


def test_context_has_containerfile_and_installs_the_collection_from_its_tarball(context):
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect" in containerfile and "/output/scripts/assemble" in containerfile
    assert "python3.12" in containerfile
    # the image's ansible-core range is the one meta/runtime.yml declares
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["requires_ansible"]
    low, high = re.fullmatch(r">=(\d+\.\d+)\.0,<(\d+\.\d+)\.0", runtime).groups()
    assert (low, high) == ("2.16", "2.21"), runtime
    assert "ansible-core>=%s,<%s" % (low, high) in containerfile
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    [entry] = requirements["collections"]
    assert entry["type"] == "file"
    assert entry["name"] == "collections/kafkasec-tls-%s.tar.gz" % _collection_version()
    assert (context / "_build" / entry["name"]).is_file()


def test_introspection_finds_the_collections_python_and_system_needs(introspected):
    pip_lines, bindep_lines, _ = introspected
    wanted = {_name(r): r for r in _lines(REPO / "meta" / "ee-requirements.txt")}
    assert set(wanted) == {"cryptography", "confluent-kafka"}
    for name, requirement in wanted.items():
        found = [line for line in pip_lines if _name(line) == name]
        assert found, "%s missing from the image's pip requirements %r" % (name, pip_lines)
        assert requirement.replace(" ", "") in found[0].replace(" ", ""), found
        assert found[0].endswith("# from collection kafkasec.tls"), found
    # Only what the collection needs at run time: no test or lint tooling, no second ansible-core.
    for tool in ("ansible-core", "pytest", "pytest-testinfra", "molecule", "matplotlib", "ansible-lint",
                 "ansible-builder"):
        assert not [line for line in pip_lines if _name(line) == tool], pip_lines
    assert any(line.startswith("openssh-clients") and "platform:rpm" in line for line in bindep_lines), bindep_lines


def test_installed_collection_carries_its_dependency_files(introspected):
    _, _, target = introspected
    root = target / "ansible_collections" / "kafkasec" / "tls"
    meta = yaml.safe_load((root / "meta" / "execution-environment.yml").read_text())
    for key in ("python", "system"):
        assert (root / meta["dependencies"][key]).is_file()


def test_ee_files_validate_against_ansible_builders_schema():
    from ansible_builder.ee_schema import validate_schema

    validate_schema(yaml.safe_load((EE_DIR / "execution-environment.yml").read_text()))
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    validate_schema(meta)
    assert meta["version"] == 3


def _third_party_imports():
    """Top-level modules imported anywhere under plugins/ that are neither stdlib, ansible nor the collection."""
    names = set()
    for path in (REPO / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    stdlib = set(sys.stdlib_module_names)
    return {n for n in names if n not in stdlib and n not in ("ansible", "ansible_collections", "__future__")}


def test_ee_requirements_cover_every_import_of_the_plugins():
    distributions = importlib.metadata.packages_distributions()
    declared = {_name(r) for r in _lines(REPO / "meta" / "ee-requirements.txt")}
    imports = _third_party_imports()
    assert imports, "no third-party import found under plugins/"
    for module in sorted(imports):
        dists = {_name(d) for d in distributions.get(module, [])}
        assert dists & declared, "plugins/ imports %s (%s) but meta/ee-requirements.txt does not name it" % (
            module, ", ".join(sorted(dists)) or "not installed")
    # ...and names nothing the plugins do not import (jinja2/yaml come with ansible-core).
    provided = {_name(d) for m in imports for d in distributions.get(m, [])}
    assert declared <= provided, declared - provided


def test_make_deps_installs_the_same_file():
    """requirements.txt (make deps) includes the collection's own needs instead of repeating them."""
    lines = _lines(REPO / "requirements.txt")
    assert "-r meta/ee-requirements.txt" in lines
    names = {_name(line) for line in lines if not line.startswith("-")}
    assert not names & {"cryptography", "confluent-kafka"}, "listed twice: keep them in meta/ee-requirements.txt"
