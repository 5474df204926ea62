#pragma once
// Executes one script socket call through the packetdrill table and checks what it wrote
// back (getsockopt values, poll revents) against the script.
#include <string>

#include "script.hpp"
#include "utcp/address.hpp"
#include "utcp/packetdrill_interface.h"

namespace utcp::drill {

struct CallContext {
  const packetdrill_interface* ifc = nullptr;
  wire::Ipv4Addr local_ip;
  wire::Ipv4Addr remote_ip;
  uint16_t bind_port = 0;
  uint16_t connect_port = 0;
};

struct CallResult {
  long long ret = 0;
  int err = 0;           // errno when ret == -1
  std::string mismatch;  // non-empty: an out-parameter or an argument was wrong
};

// May block (the runner calls it on a thread of its own).
CallResult execute_call(const SyscallSpec& call, const CallContext& ctx);

}  // namespace utcp::drill
