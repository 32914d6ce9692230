// Test-only stand-in for the Mesos module API; not Mesos code (see tests/doubles/mesos_stub/README.md).
// The module descriptor a library exports: field order as documented for API version "2".
#pragma once

#include <mesos/version.hpp>

#define MESOS_MODULE_API_VERSION "2"

namespace mesos {
namespace modules {

struct ModuleBase
{
  ModuleBase(const char* moduleApiVersion_, const char* mesosVersion_, const char* kind_, const char* authorName_,
             const char* authorEmail_, const char* description_, bool (*compatible_)())
    : moduleApiVersion(moduleApiVersion_),
      mesosVersion(mesosVersion_),
      kind(kind_),
      authorName(authorName_),
      authorEmail(authorEmail_),
      description(description_),
      compatible(compatible_)
  {
  }

  const char* moduleApiVersion;
  const char* mesosVersion;
  const char* kind;
  const char* authorName;
  const char* authorEmail;
  const char* description;
  bool (*compatible)();
};

template <typename T>
struct Module;

template <typename T>
const char* kind();

} // namespace modules
} // namespace mesos
