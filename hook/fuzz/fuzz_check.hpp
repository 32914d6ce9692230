// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// What the fuzz targets share: a failed invariant aborts with the input's details (libFuzzer
// saves the input).

#ifndef MXQ_FUZZ_CHECK_HPP
#define MXQ_FUZZ_CHECK_HPP

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace mxq_fuzz {

// Printable form of fuzzer text for the failure message (control bytes as \xNN).
inline std::string printable(std::string_view text)
{
  std::string out;
  for (unsigned char c : text.substr(0, 300)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return text.size() > 300 ? out + "...(" + std::to_string(text.size()) + " bytes)" : out;
}

[[noreturn]] inline void fail(const char* invariant, const std::string& detail)
{
  std::fprintf(stderr, "MXQ_FUZZ invariant failed: %s\n  %s\n", invariant, detail.c_str());
  std::abort();
}

} // namespace mxq_fuzz

// An invariant: abort with the input's details when it does not hold.
#define MXQ_CHECK(condition, detail)                                                                               \
  do {                                                                                                             \
    if (!(condition)) {                                                                                            \
      ::mxq_fuzz::fail(#condition, (detail));                                                                      \
    }                                                                                                              \
  } while (0)

// Runs `body`; an exception escaping it would terminate the agent (the hook has no catch).
#define MXQ_NO_THROW(call, body)                                                                                   \
  try {                                                                                                            \
    body;                                                                                                          \
  } catch (const std::exception& exception) {                                                                      \
    ::mxq_fuzz::fail("uncaught_exception: " call " must not throw", exception.what());                             \
  }

#endif // MXQ_FUZZ_CHECK_HPP
