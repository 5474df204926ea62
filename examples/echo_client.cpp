// SPDX-License-Identifier: BSD-2-Clause
// Sends its command-line words to an echo server over utcp and prints what comes back.
// As root, with a kernel echo server on the other side of the TUN (in your own namespace):
//   socat TCP-LISTEN:7,fork,reuseaddr EXEC:cat &   then   ./echo_client hello utcp
#include <cstdio>
#include <string>
#include <vector>

#include "utcp/blocking.hpp"
#include "utcp/tun.hpp"

int main(int argc, char** argv) {
  std::string message;
  for (int i = 1; i < argc; ++i) message += std::string(i > 1 ? " " : "") + argv[i];
  message += "\n";
  utcp::dev::TunOptions tun;
  tun.kernel_address = utcp::Ipv4Addr(10, 77, 0, 1);
  utcp::Interface iface(std::make_unique<utcp::dev::TunDevice>(tun));
  try {
    utcp::TcpStream s = iface.connect(utcp::Ipv4Addr(10, 77, 0, 1), 7);
    s.write_all(std::span(reinterpret_cast<const uint8_t*>(message.data()), message.size()));
    s.shutdown();  // half-close: the server echoes everything, then closes its side
    std::vector<uint8_t> buf(4096);
    for (size_t n; (n = s.read(buf)) > 0;) std::fwrite(buf.data(), 1, n, stdout);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "echo_client: %s\n", e.what());
    return 1;
  }
}
