"""Stand-in for the get-pip.py that ansible-test downloads to bootstrap its sanity venvs.

ansible-test fetches get-pip.py from a host that this project's machines cannot reach, but it
reads a cached copy first (~/.ansible/test/cache/get_pip_<version>.py); `make sanity` puts this
file there. It does the same job with what is reachable: ensurepip from the standard library,
then pip installs the requested packages (the pinned pip among them) from the package index.
"""

import subprocess
import sys

GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
install_args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *install_args])
