// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "http_authentication.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include <nlohmann/json.hpp>

#include "exits.hpp"

using nlohmann::json;

namespace agent_double {

namespace {

std::string base64_decode(const std::string& text)
{
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned value = 0;
  int bits = -8;
  for (char c : text) {
    size_t index = alphabet.find(c);
    if (index == std::string::npos) {
      break;
    }
    value = (value << 6) + static_cast<unsigned>(index);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((value >> bits) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

} // namespace

std::optional<Credentials> read_credentials(const Flags& flags)
{
  auto enabled = flags.find("authenticate_http_readonly");
  if (enabled == flags.end() || enabled->second == "false") {
    return std::nullopt;
  }
  auto path = flags.find("http_credentials");
  if (path == flags.end()) {
    die("No credentials provided for the default 'basic' HTTP authenticator for realm 'mesos-agent-readonly'");
  }
  std::string file = path->second.rfind("file://", 0) == 0 ? path->second.substr(7) : path->second;
  json parsed = json::parse(read_file_or_die(file), nullptr, false);
  Credentials credentials;
  if (parsed.is_discarded()) {
    die("Failed to load flag 'http_credentials': not JSON");
  }
  for (const json& credential : parsed.value("credentials", json::array())) {
    credentials[credential.at("principal").get<std::string>()] = credential.value("secret", "");
  }
  return credentials;
}

bool authenticated(const std::string& headers, const Credentials& credentials)
{
  std::istringstream lines(headers);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    std::string lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.rfind("authorization:", 0) != 0) {
      continue;
    }
    std::istringstream value(line.substr(14));
    std::string scheme, encoded;
    value >> scheme >> encoded;
    const std::string decoded = base64_decode(encoded);
    const size_t colon = decoded.find(':');
    if (scheme != "Basic" || colon == std::string::npos || decoded.find(':', colon + 1) != std::string::npos) {
      return false;
    }
    auto known = credentials.find(decoded.substr(0, colon));
    return known != credentials.end() && known->second == decoded.substr(colon + 1);
  }
  return false;
}

} // namespace agent_double
