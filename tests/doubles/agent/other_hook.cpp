// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Another operator's hook, for tests only: a Hook module that does nothing, so that tests can run
// the agent double with hooks that are not ours (an agent with existing --hooks and modules).
#include <mesos/hook.hpp>
#include <mesos/module.hpp>
#include <mesos/module/hook.hpp>

namespace {

mesos::Hook* createOtherHook(const mesos::Parameters&)
{
  return new mesos::Hook();
}

} // namespace

mesos::modules::Module<mesos::Hook> org_example_other_hook(MESOS_MODULE_API_VERSION, MESOS_VERSION,
                                                           "mesos.xfs_quota tests", "tests@example.org",
                                                           "A hook that does nothing (tests only).", nullptr,
                                                           createOtherHook);
