// SPDX-License-Identifier: BSD-2-Clause
// The port's --so_flags words.
#include <gtest/gtest.h>

#include "port_options.hpp"

namespace utcp::packetdrill {
namespace {

TEST(PortOptions, DefaultsAndEveryKey) {
  std::string error;
  auto d = parse_port_flags("", error);
  ASSERT_TRUE(d) << error;
  EXPECT_EQ(d->stack.address, wire::Ipv4Addr(192, 168, 0, 1));
  EXPECT_FALSE(d->real_time);
  auto o = parse_port_flags(
      "local_ip=10.1.2.3, real_time --mss=1000 mtu=1400 receive_wait_usecs=5 "
      "rto_min_usecs=300000 rto_initial_usecs=2000000 delayed_ack_usecs=1000 msl_usecs=7 "
      "window_scaling=0 timestamps=0 recv_buffer=4000 send_buffer=8000 recv_buffer_max=9000",
      error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->stack.address, wire::Ipv4Addr(10, 1, 2, 3));
  EXPECT_TRUE(o->real_time);
  EXPECT_EQ(o->stack.tcp.mss, 1000);
  EXPECT_EQ(o->mtu, 1400u);
  EXPECT_EQ(o->receive_wait_usecs, 5);
  EXPECT_EQ(o->stack.tcp.rto_min, Duration(300000));
  EXPECT_EQ(o->stack.tcp.rto_initial, Duration(2000000));
  EXPECT_EQ(o->stack.tcp.delayed_ack, Duration(1000));
  EXPECT_EQ(o->stack.tcp.msl, Duration(7));
  EXPECT_FALSE(o->stack.tcp.window_scaling);
  EXPECT_FALSE(o->stack.tcp.timestamps);
  EXPECT_EQ(o->stack.tcp.recv_buffer, 4000u);
  EXPECT_EQ(o->stack.tcp.send_buffer, 8000u);
  EXPECT_EQ(o->stack.tcp.recv_buffer_max, 9000u);
}

TEST(PortOptions, SeedChangesTheSecret) {
  std::string error;
  auto a = parse_port_flags("seed=1", error);
  auto b = parse_port_flags("seed=2", error);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->stack.secret, b->stack.secret);
  EXPECT_EQ(a->stack.secret, parse_port_flags("seed=1", error)->stack.secret);
}

TEST(PortOptions, BadWordsAreNamed) {
  std::string error;
  EXPECT_FALSE(parse_port_flags("bogus=1", error));
  EXPECT_NE(error.find("unknown flag 'bogus'"), std::string::npos) << error;
  EXPECT_FALSE(parse_port_flags("mss=abc", error));
  EXPECT_NE(error.find("mss"), std::string::npos) << error;
  EXPECT_FALSE(parse_port_flags("local_ip=300.1.1.1", error));
  EXPECT_FALSE(parse_port_flags("mtu=10", error));
  EXPECT_FALSE(parse_port_flags("mss=-5", error));
}

}  // namespace
}  // namespace utcp::packetdrill
