// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Executes one script socket call through the packetdrill table and checks what it wrote
// back (getsockopt values, poll revents) against the script.
#include <sys/socket.h>

#include <map>
#include <mutex>
#include <string>

#include "script.hpp"
#include "utcp/address.hpp"
#include "utcp/packetdrill_interface.h"

namespace utcp::drill {

// Descriptor numbers in a script are names, as in packetdrill: the `= N` a script writes for
// socket() or accept() stands for whatever the port returned (a real descriptor of this
// process), and later calls naming N get that descriptor. Numbers never returned pass as they
// are (close(99) = -1 EBADF). Calls on several threads share one map.
class FdMap {
 public:
  int live(int script_fd) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(script_fd);
    return it == map_.end() ? script_fd : it->second;
  }
  void learn(int script_fd, int live_fd) {
    std::lock_guard<std::mutex> lock(mu_);
    map_[script_fd] = live_fd;
  }

 private:
  mutable std::mutex mu_;
  std::map<int, int> map_;
};

struct CallContext {
  const packetdrill_interface* ifc = nullptr;
  // The addresses sockets name: on an AF_INET6 socket an IPv4 address is written
  // ::ffff:a.b.c.d (packetdrill's ipv4-mapped-ipv6 mode).
  IpAddr local_ip;
  IpAddr remote_ip;
  int domain = AF_INET;  // what `...` means as socket()'s first argument
  uint16_t bind_port = 0;
  uint16_t connect_port = 0;
  FdMap* fds = nullptr;  // null: script numbers are used as they are
};

struct CallResult {
  long long ret = 0;
  int err = 0;           // errno when ret == -1
  std::string mismatch;  // non-empty: an out-parameter or an argument was wrong
};

// May block (the runner calls it on a thread of its own).
CallResult execute_call(const SyscallSpec& call, const CallContext& ctx);

}  // namespace utcp::drill
