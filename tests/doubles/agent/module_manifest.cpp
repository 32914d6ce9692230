// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "module_manifest.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "exits.hpp"

using nlohmann::json;

namespace agent_double {

namespace {

// protobuf's CEscape, which TextFormat uses for string fields in DebugString: newline, carriage
// return, tab, double and single quote and backslash as C escapes, other bytes outside printable
// ASCII as three octal digits.
std::string c_escape(const std::string& text)
{
  std::string escaped;
  for (unsigned char c : text) {
    switch (c) {
      case '\n': escaped += "\\n"; break;
      case '\r': escaped += "\\r"; break;
      case '\t': escaped += "\\t"; break;
      case '"': escaped += "\\\""; break;
      case '\'': escaped += "\\'"; break;
      case '\\': escaped += "\\\\"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char octal[5];
          std::snprintf(octal, sizeof octal, "\\%03o", c);
          escaped += octal;
        } else {
          escaped += static_cast<char>(c);
        }
    }
  }
  return escaped;
}

} // namespace

std::variant<Modules, std::string> parse_modules(const std::string& text)
{
  const json config = json::parse(text, nullptr, false);
  if (config.is_discarded() || !config.is_object()) {
    return std::string("not a JSON object");
  }
  Modules modules;
  try {
    for (const json& library : config.value("libraries", json::array())) {
      LibrarySpec spec;
      if (library.contains("file")) {
        spec.file = library["file"].get<std::string>();
      }
      if (library.contains("name")) {
        spec.name = library["name"].get<std::string>();
      }
      for (const json& module : library.value("modules", json::array())) {
        ModuleSpec added{module.value("name", ""), {}};
        for (const json& parameter : module.value("parameters", json::array())) {
          added.parameters.emplace_back(parameter.at("key").get<std::string>(), parameter.at("value").get<std::string>());
        }
        spec.modules.push_back(std::move(added));
      }
      modules.push_back(std::move(spec));
    }
  } catch (const json::exception& error) {
    return std::string(error.what());
  }
  return modules;
}

Modules read_modules_flag(const std::string& value)
{
  std::string text = value;
  if (value.rfind("file://", 0) == 0) {
    text = read_file_or_die(value.substr(7));
  } else if (value.rfind("/", 0) == 0) {
    text = read_file_or_die(value);
  }
  auto parsed = parse_modules(text);
  if (std::holds_alternative<std::string>(parsed)) {
    die("Failed to load flag 'modules': " + std::get<std::string>(parsed));
  }
  return std::get<Modules>(parsed);
}

std::string debug_string(const Modules& modules)
{
  std::string text;
  auto field = [&text](int depth, const std::string& name, const std::string& value) {
    text += std::string(2 * depth, ' ') + name + ": \"" + c_escape(value) + "\"\n";
  };
  for (const LibrarySpec& library : modules) {
    text += "libraries {\n";
    if (library.file) {
      field(1, "file", *library.file);
    }
    if (library.name) {
      field(1, "name", *library.name);
    }
    for (const ModuleSpec& module : library.modules) {
      text += "  modules {\n";
      field(2, "name", module.name);
      for (const auto& [key, value] : module.parameters) {
        text += "    parameters {\n";
        field(3, "key", key);
        field(3, "value", value);
        text += "    }\n";
      }
      text += "  }\n";
    }
    text += "}\n";
  }
  return text;
}

} // namespace agent_double
