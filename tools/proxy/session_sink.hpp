// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Where the TCP and UDP relays report the sessions they carry: the -v log line, the per-session
// statistics (--stats-json, the control socket, SIGUSR1 totals). The program implements it
// (tools/proxy/session_log.*); the relays only call it.
#include <cstdint>
#include <string>

#include "proxy_config.hpp"

namespace utcp::proxy {

class SessionSink {
 public:
  virtual ~SessionSink() = default;
  // A new session (record.id is assigned here and returned). Logged with -v.
  virtual uint64_t open(SessionRecord record) = 0;
  // The live record, to update bytes, upstream, domain; nullptr once closed or unknown.
  virtual SessionRecord* find(uint64_t id) = 0;
  // The session ended for `why` (SessionRecord::end's words). Logged with -v; kept for
  // --stats-json. Closing an unknown or closed id does nothing.
  virtual void close(uint64_t id, std::string why) = 0;
};

}  // namespace utcp::proxy
