// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// A value or an error message, for a core that has no Mesos (and so no stout Try) in it.

#ifndef MXQ_EXPECTED_HPP
#define MXQ_EXPECTED_HPP

#include <string>
#include <utility>
#include <variant>

namespace mxq {

struct Error
{
  std::string message;
};

template <typename T>
class Expected
{
public:
  Expected(T value) : state_(std::move(value)) {}
  Expected(Error error) : state_(std::move(error)) {}

  bool ok() const { return std::holds_alternative<T>(state_); }
  const T& value() const { return std::get<T>(state_); }
  T& value() { return std::get<T>(state_); }
  const std::string& error() const { return std::get<Error>(state_).message; }

private:
  std::variant<T, Error> state_;
};

struct Ok
{
};

using Status = Expected<Ok>;

} // namespace mxq

#endif // MXQ_EXPECTED_HPP
