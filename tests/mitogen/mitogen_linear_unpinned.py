# Mitogen's mitogen_linear strategy without its CPU pinning (the Makefile's MITOGEN).
# On a host with fewer than 4 CPUs, Mitogen reserves CPU 0 for its multiplexer and pins every other
# process it starts, the `vm.sh up` it runs on the controller among them, to the remaining CPUs:
# on this 2-core host every QEMU VM then shares one core, and three VMs booting at once took minutes.
from __future__ import annotations

import ansible_mitogen.affinity

ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()  # the base policy pins nothing

from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
