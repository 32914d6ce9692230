// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The agent TEST DOUBLE's (not Mesos's) model of the Modules message
// (include/mesos/module/module.proto): read from JSON as the agent's flags read it, shown as its
// DebugString. README.md here cites the sources.

#ifndef MXQ_AGENT_DOUBLE_MODULE_MANIFEST_HPP
#define MXQ_AGENT_DOUBLE_MODULE_MANIFEST_HPP

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace agent_double {

struct ModuleSpec
{
  std::string name;
  std::vector<std::pair<std::string, std::string>> parameters;
};

struct LibrarySpec
{
  std::optional<std::string> file;
  std::optional<std::string> name;
  std::vector<ModuleSpec> modules;
};

using Modules = std::vector<LibrarySpec>;

// JSON -> Modules, as stout's protobuf::parse does for flags::parse<Modules> (src/common/parse.hpp):
// the message's fields are taken, other keys ignored; a parameter needs key and value (required).
// The message, or the error.
std::variant<Modules, std::string> parse_modules(const std::string& text);

// A --modules value as stout's flags read it: file://path is fetched, a value starting with '/' is
// a file too (stout/flags/parse.hpp, deprecated form), anything else is inline JSON.
Modules read_modules_flag(const std::string& value);

// Modules as /flags shows it: operator<<(ostream&, const Modules&) prints modules.DebugString()
// (include/mesos/module/module.hpp): protobuf text format, fields in field-number order, nested
// messages indented by two spaces, strings quoted and C-escaped.
std::string debug_string(const Modules& modules);

} // namespace agent_double

#endif
