// Test-only stand-in for the Mesos module API; not Mesos code (see tests/doubles/mesos_stub/README.md).
#pragma once

#include <optional>
#include <utility>

#include <stout/none.hpp>

template <typename T>
class Option
{
public:
  Option(None) {}
  Option(const T& value) : value_(value) {}
  Option(T&& value) : value_(std::move(value)) {}

  bool isSome() const { return value_.has_value(); }
  bool isNone() const { return !value_.has_value(); }
  const T& get() const { return *value_; }
  const T* operator->() const { return &*value_; }

private:
  std::optional<T> value_;
};
