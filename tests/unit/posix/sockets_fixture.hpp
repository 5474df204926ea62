// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The fixture the facade's tests share: two stacks on a simulated link (virtual clock, fixed
// secrets), a facade on each, and a helper that builds a connected pair.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cerrno>
#include <utility>

#include "support/sim_net.hpp"
#include "utcp/posix.hpp"

namespace utcp::posix {

using std::chrono::milliseconds;

inline sockaddr_in addr(wire::Ipv4Addr a, uint16_t port) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  in.sin_addr.s_addr = htonl(a.value);
  return in;
}

inline const sockaddr* sa(const sockaddr_in& in) {
  return reinterpret_cast<const sockaddr*>(&in);
}

class SocketsTest : public ::testing::Test {
 protected:
  test::SimNet net;
  Sockets a{net.a()};  // no host: every call is non-blocking
  Sockets b{net.b()};

  void settle() { net.advance(milliseconds(50)); }

  // A listener on B's port 80 and a connected pair; returns {client fd on A, server fd on B}.
  std::pair<int, int> connected_pair() {
    const int l = b.socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in any = addr(wire::Ipv4Addr(), 80);
    EXPECT_EQ(b.bind(l, sa(any), sizeof any), 0);
    EXPECT_EQ(b.listen(l, 4), 0);
    const int c = a.socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in to = addr(net.b().config().address, 80);
    EXPECT_EQ(a.connect(c, sa(to), sizeof to), -1);
    EXPECT_EQ(errno, EINPROGRESS);  // no host: connect() does not wait
    settle();
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    const int s = b.accept(l, reinterpret_cast<sockaddr*>(&peer), &len);
    EXPECT_GE(s, 0);
    EXPECT_EQ(len, sizeof peer);
    EXPECT_EQ(ntohl(peer.sin_addr.s_addr), net.a().config().address.value);
    return {c, s};
  }
};

}  // namespace utcp::posix
