// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// What the TcpRelay and UdpRelay fixtures share, without root: a client Stack (10.77.0.1) and
// the relay's Stack (10.77.0.2, forwarding every address) joined by an in-memory link, and the
// relay's EventLoop, which also drives the relay's kernel sockets on loopback. Real time,
// bounded by deadlines of a few seconds.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "proxy_config.hpp"
#include "utcp/event_loop.hpp"
#include "utcp/memory_link.hpp"
#include "utcp/stack.hpp"

namespace utcp::proxy::test {

using Bytes = std::vector<uint8_t>;
using namespace std::chrono_literals;

inline Bytes bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

// A stack at `v4` and fd77::`seed`, with a secret of its own derived from `seed`.
inline StackConfig stack_config(Ipv4Addr v4, uint16_t seed) {
  StackConfig c;
  c.address = v4;
  c.address6 = Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, seed);
  for (size_t i = 0; i < c.secret.size(); ++i) c.secret[i] = static_cast<uint8_t>(i + seed);
  return c;
}

class RelayStacksFixture : public ::testing::Test {
 protected:
  // `patience`: how long run_until waits when the test does not say.
  explicit RelayStacksFixture(std::chrono::milliseconds patience) : patience_(patience) {}

  // Builds the client Stack, the relay's Stack (forwarding every address, then `adjust`ed) and
  // the relay's loop; the fixture then builds its relay on them.
  void start_stacks(const std::function<void(StackConfig&)>& adjust) {
    client_.emplace(link_.a(), stack_config(Ipv4Addr(10, 77, 0, 1), 1));
    StackConfig rc = stack_config(Ipv4Addr(10, 77, 0, 2), 2);
    rc.forward = {*IpPrefix::parse("0.0.0.0/0"), *IpPrefix::parse("::/0")};
    if (adjust) adjust(rc);
    relay_stack_.emplace(link_.b(), rc);
    loop_.emplace(*relay_stack_, link_.b());
  }

  // Runs the relay's loop (and the client stack) until pred() or `timeout`.
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    client_->flush(EventLoop::clock_now());
    return loop_->run_until(
        [&] {
          client_->process(EventLoop::clock_now());
          return pred();
        },
        EventLoop::clock_now() + std::chrono::duration_cast<Duration>(timeout));
  }
  bool run_until(const std::function<bool()>& pred) { return run_until(pred, patience_); }

  // A derived fixture's relay (its own member) is destroyed first, while these still live.
  ProxyConfig config_;
  dev::MemoryLink link_;
  std::optional<Stack> client_;
  std::optional<Stack> relay_stack_;
  std::optional<EventLoop> loop_;
  std::vector<int> setup_fds_;  // the upstream sockets the relay's SocketSetup was handed

 private:
  std::chrono::milliseconds patience_;
};

}  // namespace utcp::proxy::test
