// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// What the fuzz targets share: a failed invariant aborts (libFuzzer saves the input), and a
// known, not yet fixed bug can be tolerated by name, so that the other invariants keep being
// checked until its fix lands:
//   MXQ_FUZZ_KNOWN_BUGS=size_rule,label_zero_unlimited ./fuzz_size corpus/size
// A tolerated bug is counted, and the counts above 0 are printed at exit; README.md has the names.

#ifndef MXQ_FUZZ_CHECK_HPP
#define MXQ_FUZZ_CHECK_HPP

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <string_view>

namespace mxq_fuzz {

class KnownBugs
{
public:
  static KnownBugs& get()
  {
    static KnownBugs bugs;
    return bugs;
  }
  // true: `name` is listed in MXQ_FUZZ_KNOWN_BUGS (counted); the caller skips the input's checks
  // that depend on the bug.
  bool tolerated(const char* name)
  {
    auto it = counts_.find(name);
    if (it == counts_.end()) {
      return false;
    }
    ++it->second;
    return true;
  }
  ~KnownBugs()
  {
    for (const auto& [name, count] : counts_) {
      if (count == 0) {
        continue;
      }
      std::fprintf(stderr, "MXQ_FUZZ known bug %s: tolerated %lu times\n", name.c_str(), count);
    }
  }

private:
  KnownBugs()
  {
    const char* list = std::getenv("MXQ_FUZZ_KNOWN_BUGS");
    std::string_view rest = list != nullptr ? list : "";
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view name = rest.substr(0, comma);
      if (!name.empty()) {
        counts_.emplace(std::string(name), 0);
      }
      rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    }
  }
  std::map<std::string, unsigned long, std::less<>> counts_;
};

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

// An invariant that holds on main: abort with the input's details when it does not.
#define MXQ_CHECK(condition, detail)                                                                               \
  do {                                                                                                             \
    if (!(condition)) {                                                                                            \
      ::mxq_fuzz::fail(#condition, (detail));                                                                      \
    }                                                                                                              \
  } while (0)

// An invariant a known bug breaks: checked unless `bug` is listed in MXQ_FUZZ_KNOWN_BUGS.
#define MXQ_CHECK_UNLESS_KNOWN(bug, condition, detail)                                                             \
  do {                                                                                                             \
    if (!(condition) && !::mxq_fuzz::KnownBugs::get().tolerated(bug)) {                                            \
      ::mxq_fuzz::fail(bug ": " #condition, (detail));                                                             \
    }                                                                                                              \
  } while (0)

// Runs `body`; an exception escaping it would terminate the agent (the hook has no catch).
#define MXQ_NO_THROW(call, body)                                                                                   \
  try {                                                                                                            \
    body;                                                                                                          \
  } catch (const std::exception& exception) {                                                                      \
    if (!::mxq_fuzz::KnownBugs::get().tolerated("uncaught_exception")) {                                           \
      ::mxq_fuzz::fail("uncaught_exception: " call " must not throw", exception.what());                           \
    }                                                                                                              \
    return 0;                                                                                                      \
  }

#endif // MXQ_FUZZ_CHECK_HPP
