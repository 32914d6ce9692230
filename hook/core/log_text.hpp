// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Text for the agent's log. Paths, ids and label values come from frameworks and tasks: a
// newline in one would start a forged log line, a terminal escape would rewrite what an operator
// sees. Every line the hook hands to the agent (logged or returned as an error) goes through
// escape_for_log once, at the glue.

#ifndef MXQ_LOG_TEXT_HPP
#define MXQ_LOG_TEXT_HPP

#include <string>
#include <string_view>

namespace mxq {

// Printable ASCII is kept, except '\'; every other byte (controls, DEL, bytes >= 0x80) becomes
// \xHH, and '\' becomes \\ . The result is one line of printable ASCII that unescape_log_text
// turns back into `text`.
std::string escape_for_log(std::string_view text);

// The inverse of escape_for_log (tests and fuzzing; an operator reading a log line by hand).
std::string unescape_log_text(std::string_view escaped);

} // namespace mxq

#endif // MXQ_LOG_TEXT_HPP
