// SPDX-License-Identifier: BSD-2-Clause
// An echo server on a TUN descriptor it did not open: the program needs no CAP_NET_ADMIN.
// Whoever has the privilege creates and configures the interface and hands over the open
// descriptor: Android's VpnService.Builder.establish(), a privileged helper sending it over a
// UNIX socket (SCM_RIGHTS), or simply a parent process that leaves it open across exec:
//
//   ./example_tun_adopt FD        serves echo on port 7 at 10.77.0.2 over descriptor FD
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <thread>
#include <vector>

#include "utcp/blocking.hpp"
#include "utcp/tun.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FD   (an open TUN descriptor, IFF_TUN | IFF_NO_PI)\n", argv[0]);
    return 2;
  }
  const int fd = std::atoi(argv[1]);
  try {
    // Reads name, flags and MTU from the kernel; configures nothing.
    auto tun = std::make_unique<utcp::dev::TunDevice>(utcp::dev::TunDevice::adopt(fd));
    std::printf("adopted %s (MTU %zu)\n", tun->name().c_str(), tun->mtu());
    utcp::InterfaceOptions options;
    options.stack.address = utcp::Ipv4Addr(10, 77, 0, 2);
    utcp::Interface iface(std::move(tun), options);
    utcp::TcpListener listener = iface.listen(7);
    for (;;) {
      std::thread([s = listener.accept()]() mutable {
        std::vector<uint8_t> buf(4096);
        std::error_code ec;
        for (size_t n; (n = s.read(buf, ec)) > 0;) s.write_all(std::span(buf).first(n), ec);
        s.shutdown(ec);
      }).detach();
    }
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "tun_adopt: %s\n", e.what());
    return 1;
  }
}
