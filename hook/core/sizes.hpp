// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The size and project-id-range grammar, shared with the Python side: both test suites read the
// same tables (tests/vectors/sizes.json, project_ids.json). The error kinds are the tables'
// `error` values.

#ifndef MXQ_SIZES_HPP
#define MXQ_SIZES_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "expected.hpp"

namespace mxq {

enum class SizeError { Syntax, Unit, FractionDigits, TooLarge, RoundsToZero };
enum class RangeError { Syntax, OutOfRange, Order };
const char* name(SizeError error);
const char* name(RangeError error);

constexpr uint32_t kProjectIdMax = 4294967294u;         // (u32)-1 means "no id" to several tools
constexpr uint64_t kMaxBytes = 9223372036854775807ull; // 2^63-1: the largest size XFS records

struct IdRange
{
  uint32_t first = 0;
  uint32_t last = 0;
};

// Bytes from "10g", "512MiB", "1.5G" or a byte count; binary units, computed exactly in integers.
std::variant<uint64_t, SizeError> read_size(std::string_view text);
// "5000-9999" or Mesos's "[5000-9999]" (as in --xfs_project_range).
std::variant<IdRange, RangeError> read_id_range(std::string_view text);

// read_size with a message that names `parameter` and says what is accepted.
Expected<uint64_t> parse_size(const std::string& text, const std::string& parameter);

namespace text {
bool is_blank(char c);
bool is_digit(char c);
std::string_view trim(std::string_view text);
// The ASCII digits at the front of `text`, removed from it.
std::string_view take_digits(std::string_view& text);
// Digits as a number, saturating at cap + 1 (callers compare against their own maximum).
unsigned __int128 number(std::string_view digits, unsigned __int128 cap);
} // namespace text

} // namespace mxq

#endif // MXQ_SIZES_HPP
