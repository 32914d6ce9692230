// Test-only stand-in for the Mesos module API; not Mesos code (see tests/doubles/mesos_stub/README.md).
#pragma once

#include <string>
#include <utility>

struct Error
{
  explicit Error(std::string text) : message(std::move(text)) {}
  std::string message;
};
