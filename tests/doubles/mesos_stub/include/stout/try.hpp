// Test-only stand-in for the Mesos module API; not Mesos code (see tests/doubles/mesos_stub/README.md).
#pragma once

#include <optional>
#include <string>

#include <stout/error.hpp>

template <typename T>
class Try
{
public:
  Try(const T& value) : value_(value) {}
  Try(const Error& error) : error_(error.message) {}

  bool isSome() const { return value_.has_value(); }
  bool isError() const { return !value_.has_value(); }
  const T& get() const { return *value_; }
  const std::string& error() const { return error_; }

private:
  std::optional<T> value_;
  std::string error_;
};
