// Test-only stand-in for the Mesos module API; not Mesos code (see tests/doubles/mesos_stub/README.md).
#pragma once

#include <optional>
#include <string>

#include <stout/error.hpp>
#include <stout/none.hpp>

template <typename T>
class Result
{
public:
  Result(None) {}
  Result(const T& value) : value_(value) {}
  Result(const Error& error) : error_(error.message), is_error_(true) {}

  bool isSome() const { return value_.has_value(); }
  bool isNone() const { return !value_.has_value() && !is_error_; }
  bool isError() const { return is_error_; }
  const T& get() const { return *value_; }
  const std::string& error() const { return error_; }

private:
  std::optional<T> value_;
  std::string error_;
  bool is_error_ = false;
};
