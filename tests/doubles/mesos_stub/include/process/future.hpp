// Test-only stand-in for the Mesos module API; not Mesos code (see tests/doubles/mesos_stub/README.md).
// Only an already-completed future: what a hook returns synchronously.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace process {

struct Failure
{
  explicit Failure(std::string text) : message(std::move(text)) {}
  std::string message;
};

template <typename T>
class Future
{
public:
  template <typename U, typename = std::enable_if_t<!std::is_same_v<std::decay_t<U>, Failure>>>
  Future(U&& value) : value_(std::forward<U>(value)) {}
  Future(const Failure& failure) : failure_(failure.message), failed_(true) {}

  bool isReady() const { return !failed_; }
  bool isFailed() const { return failed_; }
  const T& get() const { return *value_; }
  const std::string& failure() const { return failure_; }

private:
  std::optional<T> value_;
  std::string failure_;
  bool failed_ = false;
};

} // namespace process
