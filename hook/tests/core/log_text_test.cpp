// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Log text: what frameworks and tasks write cannot forge or break a log line.

#include <string>

#include "log_text.hpp"
#include "test_support.hpp"

using namespace mxq;

TEST(PureLogText, ControlCharactersAndNonAsciiAreEscapedAndRoundTrip)
{
  const std::string forged = "1g\nE1207 12:00:00.000000 1 slave.cpp:1] forged\r\x1b[2J";
  const std::string escaped = escape_for_log(forged);
  EXPECT_EQ(escaped, "1g\\x0aE1207 12:00:00.000000 1 slave.cpp:1] forged\\x0d\\x1b[2J");
  EXPECT_EQ(unescape_log_text(escaped), forged);
  EXPECT_EQ(escape_for_log("a\\x0ab"), "a\\\\x0ab") << "a backslash in the input cannot pose as an escape";
  EXPECT_EQ(unescape_log_text(escape_for_log("a\\x0ab")), "a\\x0ab");
  EXPECT_EQ(escape_for_log(std::string("\0\x7f\x80\xff", 4)), "\\x00\\x7f\\x80\\xff");
  EXPECT_EQ(escape_for_log("/var/lib/mesos/slaves/S0/frameworks/F:1/executors/e.1-2_3/runs/C"),
            "/var/lib/mesos/slaves/S0/frameworks/F:1/executors/e.1-2_3/runs/C")
      << "what Mesos ids are made of is kept as it is";
}
