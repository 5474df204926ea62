// SPDX-License-Identifier: BSD-2-Clause
// A connection made with a SharedConfig reads the Stack's tcp::Config instead of holding a
// 232-byte copy; a socket option that changes a field gives it a copy of its own
// (copy-on-write), and the shared Config and the other connections stay as they were.
#include <gtest/gtest.h>

#include "tcp/connection.hpp"

namespace utcp::tcp {
namespace {

const Ipv4Addr kLocal4(10, 77, 0, 2);
const Ipv4Addr kRemote4(10, 77, 0, 1);
const Ipv6Addr kLocal6(0xfd77, 0, 0, 0, 0, 0, 0, 2);
const Ipv6Addr kRemote6(0xfd77, 0, 0, 0, 0, 0, 0, 1);

Endpoints v4(uint16_t port) {
  return Endpoints{kLocal4, port, kRemote4, 80};
}

TEST(SharedConfig, ConnectionsReadTheSharedConfigUntilAnOptionChangesIt) {
  Config shared;  // ip_header_len 20: IPv4's
  Connection a(v4(40000), SharedConfig{&shared}, Env{});
  Connection b(v4(40001), SharedConfig{&shared}, Env{});
  EXPECT_FALSE(a.owns_config());
  EXPECT_EQ(&a.config(), &shared);
  EXPECT_EQ(&b.config(), &shared);

  // Setting what is already in force copies nothing.
  a.set_user_timeout(shared.user_timeout);
  a.set_send_buffer(shared.send_buffer);
  a.set_recv_buffer(shared.recv_buffer);
  a.set_user_mss(shared.mss);
  a.set_path_mtu(shared.path_mtu);
  EXPECT_FALSE(a.owns_config());
  // TCP_NODELAY lives in the Sender: turning Nagle off (what a proxy does on every
  // connection) keeps the Config shared.
  a.set_nodelay(true);
  EXPECT_TRUE(a.sender().nodelay());
  EXPECT_FALSE(b.sender().nodelay());
  EXPECT_FALSE(a.owns_config());

  // A real change: a copies, the shared Config and b keep the old value.
  const Duration before = shared.user_timeout;
  a.set_user_timeout(Duration(5'000'000));
  EXPECT_TRUE(a.owns_config());
  EXPECT_NE(&a.config(), &shared);
  EXPECT_EQ(a.config().user_timeout, Duration(5'000'000));
  EXPECT_EQ(shared.user_timeout, before);
  EXPECT_EQ(b.config().user_timeout, before);
  EXPECT_FALSE(b.owns_config());
  // Later changes go to a's copy.
  a.set_path_mtu(1400);
  EXPECT_EQ(a.config().path_mtu, 1400);
  EXPECT_EQ(shared.path_mtu, 1500);

  // Every option that writes the Config copies it first.
  Connection c(v4(40002), SharedConfig{&shared}, Env{});
  c.set_keepalive(KeepaliveConfig{.enabled = true}, Instant{});
  EXPECT_TRUE(c.owns_config());
  EXPECT_TRUE(c.config().keepalive.enabled);
  EXPECT_FALSE(shared.keepalive.enabled);
  Connection d(v4(40003), SharedConfig{&shared}, Env{});
  d.set_recv_buffer(64 * 1024);
  EXPECT_TRUE(d.owns_config());
  EXPECT_EQ(shared.recv_buffer, Config{}.recv_buffer);
}

// RFC 9293 §3.7.1 with RFC 8200 §3: the MSS leaves room for the family's IP header, so a
// Config made for the other family is copied and corrected at once.
TEST(SharedConfig, AConfigOfTheOtherFamilyIsCopiedWithTheRightHeaderLength) {
  Config shared4;
  shared4.ip_header_len = 20;
  Connection v6(Endpoints{kLocal6, 40000, kRemote6, 80}, SharedConfig{&shared4}, Env{});
  EXPECT_TRUE(v6.owns_config());
  EXPECT_EQ(v6.config().ip_header_len, 40);
  EXPECT_EQ(shared4.ip_header_len, 20);

  Config shared6;
  shared6.ip_header_len = 40;
  Connection same(Endpoints{kLocal6, 40001, kRemote6, 80}, SharedConfig{&shared6}, Env{});
  EXPECT_FALSE(same.owns_config());
}

// The constructor that takes a plain Config keeps a copy (callers may pass a temporary).
TEST(SharedConfig, APlainConfigIsCopied) {
  Connection c(v4(40000), Config{});
  EXPECT_TRUE(c.owns_config());
  EXPECT_EQ(c.config().ip_header_len, 20);
}

}  // namespace
}  // namespace utcp::tcp
