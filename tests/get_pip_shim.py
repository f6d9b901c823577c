"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test fetches get-pip.py from a host outside the package registries this
project may use, so tests/sanity.sh puts this file in ansible-test's cache. It
bootstraps pip from the wheel bundled with Python (ensurepip), then installs what
ansible-test asked for from PyPI, with the arguments get-pip.py would take.
"""
import subprocess
import sys

# ensurepip in a child process: in-process it sets PIP_CONFIG_FILE=/dev/null,
# which would hide the pip configuration (index, certificates) from the install below.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
