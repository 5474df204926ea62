// SPDX-License-Identifier: BSD-2-Clause
// The blocking facade's UdpSocket: two Interfaces (each a Stack on its own loop thread) over
// an in-memory link, used from plain threads: an echo of datagrams of many sizes, a read
// timeout, and connection_refused after a port unreachable.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "utcp/blocking.hpp"
#include "utcp/memory_link.hpp"

namespace utcp {
namespace {

const Ipv4Addr kServer(10, 0, 0, 1);
const Ipv4Addr kClient(10, 0, 0, 2);

InterfaceOptions options_for(Ipv4Addr addr, const Ipv6Addr& addr6, uint8_t secret_seed) {
  InterfaceOptions o;
  o.stack.address = addr;
  o.stack.address6 = addr6;
  for (size_t i = 0; i < o.stack.secret.size(); ++i) {
    o.stack.secret[i] = static_cast<uint8_t>(secret_seed + i);
  }
  o.close_timeout = Duration(100'000);
  return o;
}

TEST(UdpBlocking, EchoAcrossThreadsInBothFamilies) {
  dev::MemoryLink link;
  Interface server(link.a(), options_for(kServer, Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 1), 1));
  Interface client(link.b(), options_for(kClient, Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 2), 101));
  UdpSocket echo4 = server.udp_bind({Ipv4Addr(), 7});
  UdpSocket echo6 = server.udp_bind({Ipv6Addr(), 7});
  std::thread echoer([&] {
    std::vector<uint8_t> buf(65535);
    for (UdpSocket* s : {&echo4, &echo6}) {
      s->set_read_timeout(Duration(5'000'000));
      for (;;) {
        Endpoint from;
        std::error_code ec;
        const size_t n = s->recv_from(buf, ec, &from);
        if (ec) break;                        // timed_out once the client is done
        if (n == 1 && buf[0] == 0xff) break;  // end of this family's run
        s->send_to(std::span(buf).first(n), from, ec);
      }
    }
  });
  const uint32_t seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  for (const IpAddr& to : {IpAddr(kServer), IpAddr(Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 1))}) {
    UdpSocket c = client.udp_connect({to, 7});
    ASSERT_TRUE(c.valid());
    EXPECT_EQ(c.peer_endpoint(), (Endpoint{to, 7}));
    c.set_read_timeout(Duration(2'000'000));
    std::vector<uint8_t> back(70000);
    for (int i = 0; i < 30; ++i) {
      std::vector<uint8_t> d(i == 0 ? 0 : rng() % 9000);
      for (auto& b : d) b = static_cast<uint8_t>(rng() % 255);
      ASSERT_EQ(c.send(d), d.size());
      std::error_code ec;
      const size_t n = c.recv_from(back, ec);
      ASSERT_FALSE(ec) << ec.message() << " seed " << seed << " datagram " << i;
      ASSERT_EQ(std::vector<uint8_t>(back.begin(), back.begin() + static_cast<long>(n)), d)
          << "seed " << seed << " datagram " << i;
    }
    const uint8_t end = 0xff;
    c.send({&end, 1});
  }
  echoer.join();
}

TEST(UdpBlocking, ReadTimeoutAndConnectionRefused) {
  dev::MemoryLink link;
  Interface server(link.a(), options_for(kServer, Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 1), 2));
  Interface client(link.b(), options_for(kClient, Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 2), 102));
  UdpSocket quiet = server.udp_bind({Ipv4Addr(), 5000});
  quiet.set_read_timeout(Duration(100'000));
  std::vector<uint8_t> buf(100);
  std::error_code ec;
  EXPECT_EQ(quiet.recv_from(buf, ec), 0u);
  EXPECT_EQ(ec, std::errc::timed_out);

  UdpSocket c = client.udp_connect({kServer, 5001});  // nobody there
  c.set_read_timeout(Duration(2'000'000));
  const uint8_t x = 'x';
  c.send({&x, 1});
  EXPECT_EQ(c.recv_from(buf, ec), 0u);
  EXPECT_EQ(ec, std::errc::connection_refused);
  UdpSocket none;
  EXPECT_EQ(none.send({&x, 1}, ec), 0u);
  EXPECT_EQ(ec, std::errc::not_connected);
}

}  // namespace
}  // namespace utcp
