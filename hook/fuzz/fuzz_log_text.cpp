// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// escape_for_log on any bytes: the result is one line of printable ASCII (no byte below 0x20, no
// DEL, nothing above 0x7e: no newline to forge a log line with, no terminal escape), and
// unescape_log_text gives the input back exactly (nothing is lost or confused with an escape).

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "log_text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::string escaped;
  MXQ_NO_THROW("escape_for_log", escaped = mxq::escape_for_log(input));
  for (char c : escaped) {
    const auto byte = static_cast<unsigned char>(c);
    MXQ_CHECK(byte >= 0x20 && byte < 0x7f, mxq_fuzz::printable(input) + " -> a byte " + std::to_string(byte));
  }
  std::string back;
  MXQ_NO_THROW("unescape_log_text", back = mxq::unescape_log_text(escaped));
  MXQ_CHECK(back == input, mxq_fuzz::printable(input) + " -> " + escaped + " -> " + mxq_fuzz::printable(back));
  return 0;
}
