// SPDX-License-Identifier: BSD-2-Clause
// A threaded echo server over utcp's blocking API. As root:
//   ./echo_server &   then   nc 10.77.0.2 7
// (the TUN utcp0 is created with the kernel side at 10.77.0.1/24; run it inside a
// network namespace of your own, e.g. `ip netns exec <ns> ./echo_server`).
#include <cstdio>
#include <thread>
#include <vector>

#include "utcp/blocking.hpp"
#include "utcp/tun.hpp"

int main() {
  utcp::dev::TunOptions tun;
  tun.kernel_address = utcp::Ipv4Addr(10, 77, 0, 1);
  utcp::Interface iface(std::make_unique<utcp::dev::TunDevice>(tun));
  utcp::TcpListener listener = iface.listen(7);
  std::puts("echo server on 10.77.0.2:7");
  for (;;) {
    utcp::Endpoint peer;
    utcp::TcpStream stream = listener.accept(&peer);
    std::printf("connection from %s:%u\n", peer.addr.to_string().c_str(), peer.port);
    std::thread([s = std::move(stream)]() mutable {
      std::vector<uint8_t> buf(4096);
      std::error_code ec;
      for (size_t n; (n = s.read(buf, ec)) > 0;) s.write_all(std::span(buf).first(n), ec);
      s.shutdown(ec);  // FIN back once the client has finished; ~TcpStream closes
    }).detach();
  }
}
