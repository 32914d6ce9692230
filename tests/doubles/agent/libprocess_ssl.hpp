// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The agent TEST DOUBLE's (not Mesos's) model of how libprocess serves its one HTTP port with TLS
// (Mesos 1.11.0: 3rdparty/libprocess/src/openssl.cpp, posix/libevent/libevent_ssl_socket.cpp).
// Which source each rule mirrors is in README.md here; no Mesos code is copied.

#ifndef MXQ_AGENT_DOUBLE_LIBPROCESS_SSL_HPP
#define MXQ_AGENT_DOUBLE_LIBPROCESS_SSL_HPP

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace agent_double {

// libprocess's SSL flags with their defaults (openssl.cpp, Flags::Flags); the ones the double uses.
struct SslFlags
{
  bool enabled = false;
  bool support_downgrade = false;
  std::optional<std::string> cert_file;
  std::optional<std::string> key_file;
  std::string ciphers = "AES128-SHA:AES256-SHA:RC4-SHA:DHE-RSA-AES128-SHA:DHE-DSS-AES128-SHA:"
                        "DHE-RSA-AES256-SHA:DHE-DSS-AES256-SHA";
  std::string ecdh_curves = "auto";
  std::map<std::string, bool> protocols = {{"enable_ssl_v3", false}, {"enable_tls_v1_0", false},
                                           {"enable_tls_v1_1", false}, {"enable_tls_v1_2", true},
                                           {"enable_tls_v1_3", false}};
};

// The flags from an environment ("NAME=value" entries) as libprocess reads them, or the text the
// agent exits with.
std::variant<SslFlags, std::string> ssl_flags_from(const std::vector<std::string>& environ);

// One accepted connection: plain, or TLS after its handshake.
class Connection
{
public:
  virtual ~Connection() = default;
  virtual ssize_t read(char* buffer, size_t size) = 0;
  virtual ssize_t write(const char* data, size_t size) = 0;
};

// What the agent's listening socket speaks: plain HTTP, TLS, or (SUPPORT_DOWNGRADE) either,
// decided per connection from its first bytes.
class Transport
{
public:
  // From the process's environment; exits with libprocess's message when the agent would.
  static Transport from_environment();
  ~Transport();
  Transport(Transport&&) noexcept;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;
  Transport& operator=(Transport&&) = delete;

  // Takes over the accepted socket `client`; nothing when the TLS handshake failed (the socket
  // is then closed, as libprocess drops a failed accept).
  std::unique_ptr<Connection> open(int client);
  std::string describe() const;

private:
  struct Context;
  explicit Transport(std::unique_ptr<Context> context);
  std::unique_ptr<Context> context_;
};

} // namespace agent_double

#endif
