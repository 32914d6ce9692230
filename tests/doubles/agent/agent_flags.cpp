// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "agent_flags.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

namespace agent_double {

namespace {

// The double's own test interface (README.md): not Mesos flags, not shown in /flags.
FlagSpec own_flag(bool boolean)
{
  FlagSpec flag;
  flag.boolean = boolean;
  return flag;
}

const std::map<std::string, FlagSpec> kDoubleFlags = {
    {"double_mesos_version", own_flag(false)}, {"double_recovery_secs", own_flag(false)},
    {"double_fail_recovery_file", own_flag(false)}, {"double_agent_id", own_flag(false)}, {"drive", own_flag(true)},
};

std::string lower(std::string text)
{
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string trim(const std::string& text)
{
  const char* space = " \t\n\r";
  const size_t first = text.find_first_not_of(space);
  return first == std::string::npos ? "" : text.substr(first, text.find_last_not_of(space) - first + 1);
}

// (name as given, value or nothing), in stout's Multimap order: by name, then as given.
using Values = std::multimap<std::string, std::optional<std::string>>;

// FlagsBase::load(prefix, argc, argv): the command line's flags, up to "--".
Values command_line_values(int argc, char** argv)
{
  Values values;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = trim(argv[i]);
    if (arg == "--") {
      break;
    }
    if (arg.rfind("--", 0) != 0) {
      continue;
    }
    const size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      values.emplace(lower(arg.substr(2)), std::nullopt);
    } else {
      values.emplace(lower(arg.substr(2, eq - 2)), arg.substr(eq + 1));
    }
  }
  return values;
}

class Loader
{
public:
  explicit Loader(const AgentRelease& release) : release_(release) {}

  // The canonical name of a flag known by `name` (a name or a deprecated alias), or nothing.
  std::optional<std::string> known(const std::string& name) const
  {
    auto alias = release_.flag_aliases.find(name);
    const std::string canonical = alias == release_.flag_aliases.end() ? name : alias->second;
    if (release_.flags.count(canonical) || kDoubleFlags.count(canonical)) {
      return canonical;
    }
    return std::nullopt;
  }

  const FlagSpec& spec(const std::string& canonical) const
  {
    auto own = kDoubleFlags.find(canonical);
    return own != kDoubleFlags.end() ? own->second : release_.flags.at(canonical);
  }

  // FlagsBase::extract(prefix): MESOS_<NAME> (any case) of known flags only; others are ignored.
  std::map<std::string, std::string> environment_values(char** environment) const
  {
    std::map<std::string, std::string> values;
    for (char** entry = environment; *entry != nullptr; ++entry) {
      const std::string text = *entry;
      const size_t eq = text.find('=');
      if (text.rfind("MESOS_", 0) != 0 || eq == std::string::npos) {
        continue;
      }
      const std::string name = lower(text.substr(6, eq - 6));
      if (known(name.rfind("no-", 0) == 0 ? name.substr(3) : name)) {
        values[name] = text.substr(eq + 1);
      }
    }
    return values;
  }

  // One (name, value) as FlagsBase::load takes it; an error text, or nothing.
  std::optional<std::string> load(const std::string& name, const std::optional<std::string>& value,
                                  LoadedFlags& loaded)
  {
    const bool negated = name.rfind("no-", 0) == 0;
    const std::string flag_name = negated ? name.substr(3) : name;
    const std::optional<std::string> canonical = known(flag_name);
    if (!canonical) {
      return "Failed to load unknown flag '" + flag_name + "'" + (negated ? " via '" + name + "'" : "");
    }
    auto seen = loaded_names_.find(*canonical);
    if (seen != loaded_names_.end()) {
      return "Flag '" + flag_name + "' is already loaded via name '" + seen->second + "'";
    }
    std::string text;
    if (!spec(*canonical).boolean) {
      if (negated) {
        return "Failed to load non-boolean flag '" + flag_name + "' via '" + name + "'";
      }
      if (!value) {
        return "Failed to load non-boolean flag '" + flag_name + "': Missing value";
      }
      text = *value;
    } else if (!value || value->empty()) {
      text = negated ? "false" : "true";
    } else if (negated) {
      return "Failed to load boolean flag '" + flag_name + "' via '" + name + "' with value '" + *value + "'";
    } else if (*value == "true" || *value == "1" || *value == "false" || *value == "0") { // parse<bool>
      text = *value == "true" || *value == "1" ? "true" : "false";
    } else {
      return "Failed to load flag '" + flag_name + "': Failed to load value '" + *value +
             "': Expecting a boolean (e.g., true or false)";
    }
    loaded.values[*canonical] = text;
    loaded_names_[*canonical] = flag_name;
    if (flag_name != *canonical) {
      loaded.loaded_as[*canonical] = flag_name;
      loaded.warnings.push_back("Loaded deprecated flag '" + flag_name + "'");
    }
    return std::nullopt;
  }

  // The release's flags that have no default must have been given (in name order, as stout's map).
  std::optional<std::string> missing_required() const
  {
    for (const auto& [name, flag] : release_.flags) {
      if (flag.required && loaded_names_.count(name) == 0) {
        return "Flag '" + name + "' is required, but it was not provided";
      }
    }
    return std::nullopt;
  }

private:
  const AgentRelease& release_;
  std::map<std::string, std::string> loaded_names_; // canonical -> the name it was loaded by
};

} // namespace

LoadedFlags load_flags(int argc, char** argv, char** environment, const AgentRelease& release)
{
  Loader loader(release);
  Values values = command_line_values(argc, argv);
  for (const auto& [name, value] : loader.environment_values(environment)) {
    if (values.count(name) == 0) { // the command line takes precedence
      values.emplace(name, value);
    }
  }
  LoadedFlags loaded;
  for (const auto& [name, value] : values) {
    if ((loaded.error = loader.load(name, value, loaded))) {
      return loaded;
    }
  }
  loaded.error = loader.missing_required();
  return loaded;
}

Flags flags_in_effect(const LoadedFlags& loaded, const AgentRelease& release)
{
  Flags flags = loaded.values;
  for (const auto& [name, flag] : release.flags) {
    if (flag.default_value) {
      flags.emplace(name, *flag.default_value);
    }
  }
  return flags;
}

std::string usage(const AgentRelease& release)
{
  std::string text = "Usage: mesos-agent [options]\n\n";
  for (const auto& [name, flag] : release.flags) {
    text += "  --" + std::string(flag.boolean ? "[no-]" : "") + name + (flag.boolean ? "" : "=VALUE") +
            (flag.default_value ? " (default: " + *flag.default_value + ")" : "") + "\n";
  }
  return text;
}

std::string version_to_play(int argc, char** argv, char** environment, const std::string& fallback)
{
  const Values values = command_line_values(argc, argv);
  auto given = values.find("double_mesos_version");
  if (given != values.end() && given->second) {
    return *given->second;
  }
  for (char** entry = environment; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const std::string prefix = "MESOS_DOUBLE_MESOS_VERSION=";
    if (lower(text.substr(0, prefix.size())) == lower(prefix)) {
      return text.substr(prefix.size());
    }
  }
  return fallback;
}

Flags flags_shown(const LoadedFlags& loaded, const AgentRelease& release)
{
  Flags shown;
  for (const auto& [name, flag] : release.flags) {
    auto given = loaded.values.find(name);
    auto alias = loaded.loaded_as.find(name);
    const std::string shown_name = alias == loaded.loaded_as.end() ? name : alias->second;
    if (given != loaded.values.end()) {
      shown[shown_name] = given->second;
    } else if (flag.default_value) {
      shown[name] = *flag.default_value;
    }
  }
  return shown;
}

std::string flag_or(const Flags& flags, const std::string& name, const std::string& fallback)
{
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

} // namespace agent_double
