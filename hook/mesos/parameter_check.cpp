// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The hook's parameter check, for roles to run on the target host before any agent restart: a
// child process dlopens this library (as mesos_module_info loads it) and calls
//
//   int mesos_xfs_quota_hook_check_parameters(const char* const* keys, const char* const* values,
//                                             size_t count, char* message, size_t message_size);
//
// with the exact parameters to be deployed. It runs create()'s parser and checks (sizes, id
// range, limits, work_dir on XFS with project quota enforced) and nothing else: no thread, no
// recovery, nothing changed. 0: the hook would start; otherwise 1 (the parameters) or 2 (the
// call itself). `message` gets a NUL-terminated line that names the parameter and the fix (or,
// with 0, a note such as a work_dir that does not exist yet), cut to `message_size`.

#include <cstddef>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../core/config.hpp"
#include "../core/log_text.hpp"
#include "../core/sandbox_quotas.hpp"

namespace {

int answer(int status, const std::string& text, char* message, size_t message_size)
{
  if (message != nullptr && message_size > 0) {
    const std::string escaped = mxq::escape_for_log(text);
    const size_t n = std::min(escaped.size(), message_size - 1);
    std::memcpy(message, escaped.data(), n);
    message[n] = '\0';
  }
  return status;
}

} // namespace

extern "C" __attribute__((visibility("default"))) int mesos_xfs_quota_hook_check_parameters(
    const char* const* keys, const char* const* values, size_t count, char* message, size_t message_size)
{
  try {
    std::vector<std::pair<std::string, std::string>> parameters;
    for (size_t i = 0; i < count; ++i) {
      if (keys == nullptr || values == nullptr || keys[i] == nullptr || values[i] == nullptr) {
        return answer(2, "parameter " + std::to_string(i) + ": its key or value is a null pointer", message,
                      message_size);
      }
      parameters.emplace_back(keys[i], values[i]);
    }
    mxq::Expected<mxq::Config> config = mxq::Config::parse(parameters);
    if (!config.ok()) {
      return answer(1, config.error(), message, message_size);
    }
    mxq::Expected<std::string> checked = mxq::SandboxQuotas::check(config.value());
    if (!checked.ok()) {
      return answer(1, checked.error(), message, message_size);
    }
    return answer(0, checked.value(), message, message_size);
  } catch (const std::exception& error) {
    return answer(2, std::string("the check failed: ") + error.what(), message, message_size);
  } catch (...) {
    return answer(2, "the check failed", message, message_size);
  }
}
