// SPDX-License-Identifier: BSD-2-Clause
// Terminates every TCP connection and UDP flow the kernel routes into the TUN for
// 198.18.0.0/15 and 2001:db8::/32, whatever its destination address and port, and echoes its
// bytes (and answers pings to those addresses): the library side of a transparent proxy
// (issue 13), where an application would dial the original destination upstream first. As root,
// inside a network namespace of your own:
//   ./forward_echo &          # routes both prefixes into its TUN (TunOptions::routes)
//   nc 198.18.7.7 1234        # or any address in those prefixes, any port; nc -u too
// An optional argument names the TUN (default utcp0).
#include <cstdio>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "utcp/event_loop.hpp"
#include "utcp/stack.hpp"
#include "utcp/tun.hpp"

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a line per connection, also into a file
  utcp::dev::TunOptions tun;
  if (argc > 1) tun.name = argv[1];
  tun.kernel_address = utcp::Ipv4Addr(10, 77, 0, 1);
  tun.kernel_address6 = utcp::Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 1);
  utcp::StackConfig config;
  config.forward = {*utcp::IpPrefix::parse("198.18.0.0/15"),
                    *utcp::IpPrefix::parse("2001:db8::/32")};
  tun.routes = config.forward;  // the kernel sends those prefixes into the TUN
  utcp::dev::TunDevice device(tun);
  config.forward_udp = true;
  config.forward_echo = true;
  utcp::Stack stack(device, config);
  utcp::EventLoop loop(stack, device);

  std::unordered_map<utcp::SocketId, std::vector<uint8_t>> held;  // read, not yet sent back
  std::unordered_set<utcp::SocketId> dirty, flows;                // flows: UDP
  stack.set_readiness_callback([&](utcp::SocketId s, uint32_t r) {
    dirty.insert(s);
    if (r & utcp::ready::kHangup) flows.erase(s);  // an idle UDP flow the stack closes
  });
  loop.add_after_process([&] {
    // Every request is accepted at once; a proxy would decide after trying its upstream.
    while (auto request = stack.next_request()) {
      std::error_code ec;
      const utcp::SocketId s = stack.accept_request(request->id, ec);
      if (ec) continue;
      std::printf("%s:%u -> %s:%u\n", request->remote.addr.to_string().c_str(),
                  request->remote.port, request->local.addr.to_string().c_str(),
                  request->local.port);
      held[s];
    }
    while (auto flow = stack.next_udp_flow()) flows.insert(flow->socket);
    for (const utcp::SocketId s : std::exchange(dirty, {})) {
      if (flows.count(s)) {  // each datagram back to its sender, from the original destination
        std::vector<uint8_t> datagram(65536);
        std::error_code ec, sent;
        for (;;) {
          const size_t n = stack.recv_from(s, datagram, ec);
          if (ec) break;  // operation_would_block: none left
          stack.send_to(s, std::span(datagram).first(n), nullptr, sent);
        }
        continue;
      }
      auto it = held.find(s);
      if (it == held.end()) continue;
      std::vector<uint8_t>& out = it->second;
      std::error_code ec;
      bool eof = false;
      uint8_t buf[16384];
      for (;;) {  // send what is held; read more only once it has all gone
        if (!out.empty()) {
          out.erase(out.begin(), out.begin() + static_cast<long>(stack.send(s, out, ec)));
          if (!out.empty()) break;
        }
        const size_t n = stack.recv(s, buf, ec);
        if (n == 0) {
          eof = !ec;
          break;
        }
        out.assign(buf, buf + n);
      }
      if (stack.error(s) || (eof && out.empty())) {
        stack.shutdown_write(s, ec);  // FIN after the last echoed byte
        stack.close(s);
        held.erase(it);
      }
    }
  });
  std::puts("echoing TCP and UDP for 198.18.0.0/15 and 2001:db8::/32");
  loop.run();
}
