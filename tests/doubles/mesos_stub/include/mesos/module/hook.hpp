// Test-only stand-in for the Mesos module API; not Mesos code (see tests/doubles/mesos_stub/README.md).
#pragma once

#include <mesos/hook.hpp>
#include <mesos/mesos.hpp>
#include <mesos/module.hpp>

namespace mesos {
namespace modules {

template <>
inline const char* kind<mesos::Hook>()
{
  return "Hook";
}

template <>
struct Module<mesos::Hook> : ModuleBase
{
  Module(const char* moduleApiVersion_, const char* mesosVersion_, const char* authorName_, const char* authorEmail_,
         const char* description_, bool (*compatible_)(), mesos::Hook* (*create_)(const Parameters&))
    : ModuleBase(moduleApiVersion_, mesosVersion_, mesos::modules::kind<mesos::Hook>(), authorName_, authorEmail_, description_,
                 compatible_),
      create(create_)
  {
  }

  mesos::Hook* (*create)(const Parameters& parameters);
};

} // namespace modules
} // namespace mesos
