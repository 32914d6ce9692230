// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// TLS on the agent TEST DOUBLE's HTTP port, as libprocess (Mesos 1.11.0) serves it: one port; the
// LIBPROCESS_SSL_* (or deprecated SSL_*) environment decides; not a flag of the agent, so /flags
// does not show it. Sources: 3rdparty/libprocess/src/openssl.cpp (Flags::Flags, reinitialize),
// 3rdparty/stout/include/stout/flags/flags.hpp (FlagsBase::extract, FlagsBase::load),
// 3rdparty/libprocess/src/posix/libevent/libevent_ssl_socket.cpp (accept_callback, peek_callback,
// accept_SSL_callback), 3rdparty/libprocess/src/socket.cpp (SocketImpl::DEFAULT_KIND).

#include "libprocess_ssl.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <set>
#include <utility>

extern char** environ;

namespace agent_double {
namespace {

const std::set<std::string> kBooleanFlags = {
    "enabled", "support_downgrade", "verify_cert", "verify_server_cert", "require_cert", "require_client_cert",
    "verify_ipadd", "enable_ssl_v3", "enable_tls_v1_0", "enable_tls_v1_1", "enable_tls_v1_2", "enable_tls_v1_3"};
const std::set<std::string> kValueFlags = {"cert_file", "key_file", "verification_depth", "ca_dir", "ca_file",
                                           "ciphers", "ecdh_curves", "hostname_validation_scheme"};

std::string lower(std::string text)
{
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// FlagsBase::extract(prefix): every variable PREFIX<name> whose lower-cased name (without a
// "no-") is a known flag; os::environment() is a map, so a later name in sort order wins.
std::map<std::string, std::string> extract(const std::vector<std::string>& environ, const std::string& prefix)
{
  std::map<std::string, std::string> by_variable;
  for (const std::string& entry : environ) {
    size_t eq = entry.find('=');
    if (eq != std::string::npos && entry.compare(0, prefix.size(), prefix) == 0) {
      by_variable[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
  }
  std::map<std::string, std::string> values;
  for (const auto& [variable, value] : by_variable) {
    std::string name = lower(variable.substr(prefix.size()));
    std::string flag = name.rfind("no-", 0) == 0 ? name.substr(3) : name;
    if (kBooleanFlags.count(flag) != 0 || kValueFlags.count(flag) != 0) {
      values[name] = value;
    }
  }
  return values;
}

std::string openssl_error(const std::string& what)
{
  unsigned long code = ERR_get_error();
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return what + " (OpenSSL error #" + std::to_string(code) + "): " + text;
}

class PlainConnection : public Connection
{
public:
  explicit PlainConnection(int fd) : fd_(fd) {}
  ~PlainConnection() override { close(fd_); }
  ssize_t read(char* buffer, size_t size) override { return ::read(fd_, buffer, size); }
  ssize_t write(const char* data, size_t size) override { return ::write(fd_, data, size); }

private:
  int fd_;
};

class TlsConnection : public Connection
{
public:
  TlsConnection(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~TlsConnection() override
  {
    SSL_shutdown(ssl_);
    SSL_free(ssl_);
    close(fd_);
  }
  ssize_t read(char* buffer, size_t size) override { return SSL_read(ssl_, buffer, static_cast<int>(size)); }
  ssize_t write(const char* data, size_t size) override { return SSL_write(ssl_, data, static_cast<int>(size)); }

private:
  int fd_;
  SSL* ssl_;
};

[[noreturn]] void exit_with(const std::string& message)
{
  std::cerr << "mesos-agent-double: " << message << std::endl;
  std::exit(EXIT_FAILURE);
}

} // namespace

std::variant<SslFlags, std::string> ssl_flags_from(const std::vector<std::string>& environ)
{
  // openssl.cpp reinitialize: LIBPROCESS_SSL_<name> first, SSL_<name> only where it is missing
  std::map<std::string, std::string> values = extract(environ, "LIBPROCESS_SSL_");
  for (const auto& [name, value] : extract(environ, "SSL_")) {
    values.emplace(name, value);
  }
  const std::string failed = "Failed to load flags from environment variables prefixed by LIBPROCESS_SSL_ or SSL_ "
                             "(deprecated): ";
  SslFlags flags;
  std::map<std::string, std::string> loaded_via;
  for (const auto& [name, value] : values) {
    const bool negated = name.rfind("no-", 0) == 0;
    const std::string flag = negated ? name.substr(3) : name;
    if (loaded_via.count(flag) != 0) {
      return failed + "Flag '" + flag + "' is already loaded via name '" + loaded_via[flag] + "'";
    }
    loaded_via[flag] = name;
    if (kValueFlags.count(flag) != 0) {
      if (negated) {
        return failed + "Failed to load non-boolean flag '" + flag + "' via '" + name + "'";
      }
      if (flag == "cert_file") {
        flags.cert_file = value;
      } else if (flag == "key_file") {
        flags.key_file = value;
      } else if (flag == "ciphers") {
        flags.ciphers = value;
      } else if (flag == "ecdh_curves") {
        flags.ecdh_curves = value;
      }
      continue;
    }
    // a boolean: empty means set (false when negated); stout's parse<bool> takes true|1, false|0
    if (negated && !value.empty()) {
      return failed + "Failed to load boolean flag '" + flag + "' via '" + name + "' with value '" + value + "'";
    }
    const std::string text = value.empty() ? (negated ? "false" : "true") : value;
    if (text != "true" && text != "1" && text != "false" && text != "0") {
      return failed + "Failed to load flag '" + flag + "': Expecting a boolean (e.g., true or false)";
    }
    const bool on = text == "true" || text == "1";
    if (flag == "enabled") {
      flags.enabled = on;
    } else if (flag == "support_downgrade") {
      flags.support_downgrade = on;
    } else if (flags.protocols.count(flag) != 0) {
      flags.protocols[flag] = on;
    }
  }
  return flags;
}

struct Transport::Context
{
  SslFlags flags;
  SSL_CTX* ctx = nullptr;
  ~Context() { SSL_CTX_free(ctx); }
};

Transport::Transport(std::unique_ptr<Context> context) : context_(std::move(context)) {}
Transport::Transport(Transport&&) noexcept = default;
Transport::~Transport() = default;

Transport Transport::from_environment()
{
  std::vector<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    entries.emplace_back(*entry);
  }
  auto parsed = ssl_flags_from(entries);
  if (std::holds_alternative<std::string>(parsed)) {
    exit_with(std::get<std::string>(parsed));
  }
  auto context = std::make_unique<Context>();
  context->flags = std::get<SslFlags>(parsed);
  const SslFlags& flags = context->flags;
  if (!flags.enabled) {
    return Transport(std::move(context)); // SocketImpl::DEFAULT_KIND: POLL, plain HTTP
  }
  if (!flags.key_file) {
    exit_with("SSL requires key! NOTE: Set path with LIBPROCESS_SSL_KEY_FILE");
  }
  if (!flags.cert_file) {
    exit_with("SSL requires certificate! NOTE: Set path with LIBPROCESS_SSL_CERT_FILE");
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  context->ctx = ctx;
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  const uint64_t session = 7;
  SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>(&session), sizeof session);
  // client certificates are not asked for (LIBPROCESS_SSL_REQUIRE_CLIENT_CERT is not modelled)
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  if (SSL_CTX_use_certificate_chain_file(ctx, flags.cert_file->c_str()) != 1) {
    exit_with(openssl_error("Could not load cert file '" + *flags.cert_file + "'"));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, flags.key_file->c_str(), SSL_FILETYPE_PEM) != 1) {
    exit_with(openssl_error("Could not load key file '" + *flags.key_file + "'"));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    exit_with(openssl_error("Private key does not match the certificate public key"));
  }
  if (SSL_CTX_set_cipher_list(ctx, flags.ciphers.c_str()) == 0) {
    exit_with(openssl_error("Could not set ciphers '" + flags.ciphers + "'"));
  }
  // only the protocol versions enabled by flag (by default TLS 1.2 alone), server's cipher order
  const std::vector<std::pair<std::string, uint64_t>> protocol_options = {
      {"enable_ssl_v3", SSL_OP_NO_SSLv3}, {"enable_tls_v1_0", SSL_OP_NO_TLSv1}, {"enable_tls_v1_1", SSL_OP_NO_TLSv1_1},
      {"enable_tls_v1_2", SSL_OP_NO_TLSv1_2}, {"enable_tls_v1_3", SSL_OP_NO_TLSv1_3}};
  uint64_t options = SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_SSLv2;
  for (const auto& [flag, option] : protocol_options) {
    SSL_CTX_clear_options(ctx, option);
    if (!flags.protocols.at(flag)) {
      options |= option;
    }
  }
  SSL_CTX_set_options(ctx, options);
  if (flags.ecdh_curves != "auto" && SSL_CTX_set1_curves_list(ctx, flags.ecdh_curves.c_str()) != 1) {
    exit_with(openssl_error("Could not load ECDH curves '" + flags.ecdh_curves + "'"));
  }
  return Transport(std::move(context));
}

std::unique_ptr<Connection> Transport::open(int client)
{
  timeval timeout{30, 0}; // a silent client must not stall the double's single accept loop
  setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (context_->ctx == nullptr) {
    return std::make_unique<PlainConnection>(client);
  }
  if (context_->flags.support_downgrade) {
    // peek_callback: the first 6 bytes decide; an SSLv2 or SSLv3+/TLS ClientHello is TLS,
    // anything else (an HTTP request) is served plain on the same port
    unsigned char data[6] = {};
    ssize_t size = recv(client, data, sizeof data, MSG_PEEK);
    bool tls = size >= 2 && (((data[0] & 0x80) != 0 && data[2] == 1 /* SSL2_MT_CLIENT_HELLO */) ||
                             (data[0] == 0x16 /* SSL3_RT_HANDSHAKE */ && data[1] == 3 && data[5] == 1));
    if (!tls) {
      return std::make_unique<PlainConnection>(client);
    }
  }
  SSL* ssl = SSL_new(context_->ctx);
  SSL_set_fd(ssl, client);
  if (SSL_accept(ssl) != 1) {
    std::cerr << "mesos-agent-double: " << openssl_error("Failed to accept socket: TLS handshake failed") << std::endl;
    ERR_clear_error();
    SSL_free(ssl);
    close(client);
    return nullptr;
  }
  return std::make_unique<TlsConnection>(client, ssl);
}

std::string Transport::describe() const
{
  if (context_->ctx == nullptr) {
    return "HTTP";
  }
  return context_->flags.support_downgrade ? "HTTPS (and HTTP: LIBPROCESS_SSL_SUPPORT_DOWNGRADE)" : "HTTPS";
}

} // namespace agent_double
