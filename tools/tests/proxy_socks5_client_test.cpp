// SPDX-License-Identifier: BSD-2-Clause
// Socks5Handshake: the exact bytes of RFC 1928's greeting and requests and RFC 1929's
// authentication, replies taken whole or a byte at a time, each failure the server can answer
// with, bytes after the reply left for the relay, and random server bytes (seeded) that must
// end in kDone or kFailed or wait for more, never crash or over-read.
#include "socks5_client.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <vector>

namespace utcp::proxy {
namespace {

using Bytes = std::vector<uint8_t>;
using Cmd = Socks5Handshake::Command;

Bytes take_output(Socks5Handshake& h) {
  const auto out = h.output();
  Bytes b(out.begin(), out.end());
  h.consume_output(b.size());
  return b;
}

Target v4_target() {
  return Target{Ipv4Addr(10, 81, 0, 2), "", 8080};
}

TEST(Socks5Client, ConnectWithoutAuthenticationIpv4) {
  Socks5Handshake h(Cmd::kConnect, v4_target(), std::nullopt);
  EXPECT_EQ(take_output(h), (Bytes{5, 1, 0}));  // RFC 1928 §3: VER NMETHODS METHODS
  EXPECT_TRUE(h.output().empty());
  EXPECT_EQ(h.input(Bytes{5, 0}), 2u);
  EXPECT_EQ(h.state(), HandshakeState::kInProgress);
  // RFC 1928 §4: VER CMD RSV ATYP=1 10.81.0.2 port 8080 (0x1f90).
  EXPECT_EQ(take_output(h), (Bytes{5, 1, 0, 1, 10, 81, 0, 2, 0x1f, 0x90}));
  EXPECT_EQ(h.input(Bytes{5, 0, 0, 1, 10, 80, 0, 2, 0x30, 0x39}), 10u);
  EXPECT_EQ(h.state(), HandshakeState::kDone);
  EXPECT_EQ(h.reply_code(), 0);
  EXPECT_EQ(h.bound().addr, IpAddr(Ipv4Addr(10, 80, 0, 2)));
  EXPECT_EQ(h.bound().port, 12345);
  EXPECT_TRUE(h.output().empty());
}

TEST(Socks5Client, PipelinedRequestFollowsTheGreetingInOneWrite) {
  Socks5Handshake h(Cmd::kConnect, v4_target(), std::nullopt, Socks5Handshake::Send::kPipelined);
  // RFC 1928 §3 greeting offering only "none", then §4's request, before any answer.
  EXPECT_EQ(take_output(h), (Bytes{5, 1, 0, 5, 1, 0, 1, 10, 81, 0, 2, 0x1f, 0x90}));
  EXPECT_FALSE(h.got_reply());
  // The method answer, the reply and the destination's first bytes, a byte at a time.
  const Bytes in = {5, 0, 5, 0, 0, 1, 10, 80, 0, 2, 0x30, 0x39};
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(h.state(), HandshakeState::kInProgress) << i;
    EXPECT_EQ(h.input(Bytes{in[i]}), 1u) << i;
    EXPECT_TRUE(h.output().empty()) << i;  // nothing more to send: the request went already
  }
  EXPECT_EQ(h.state(), HandshakeState::kDone);
  EXPECT_EQ(h.reply_code(), 0);
  EXPECT_EQ(h.bound().port, 12345);
  EXPECT_EQ(h.input(Bytes{'S', 'S', 'H'}), 0u);  // the relay's
}

TEST(Socks5Client, PipelinedAnswersAreStillChecked) {
  using Send = Socks5Handshake::Send;
  {
    Socks5Handshake h(Cmd::kConnect, v4_target(), std::nullopt, Send::kPipelined);
    take_output(h);
    h.input(Bytes{5, 0xff});  // no acceptable method: the request is never read
    EXPECT_EQ(h.state(), HandshakeState::kFailed);
    EXPECT_FALSE(h.got_reply());
    EXPECT_NE(h.error().find("--socks-user"), std::string::npos) << h.error();
  }
  {
    Socks5Handshake h(Cmd::kConnect, v4_target(), std::nullopt, Send::kPipelined);
    take_output(h);
    h.input(Bytes{5, 2});  // a method that was not offered
    EXPECT_EQ(h.state(), HandshakeState::kFailed);
    EXPECT_NE(h.error().find("not offered"), std::string::npos) << h.error();
  }
  {
    Socks5Handshake h(Cmd::kConnect, v4_target(), std::nullopt, Send::kPipelined);
    take_output(h);
    EXPECT_EQ(h.input(Bytes{5, 0, 5, 5}), 4u);  // method "none", then REP 5 refused
    EXPECT_EQ(h.state(), HandshakeState::kFailed);
    EXPECT_EQ(h.reply_code(), 5);
  }
}

TEST(Socks5Client, PipeliningIsNotUsedWithCredentials) {
  // The server chooses between "none" and username/password: what follows depends on it.
  Socks5Handshake h(Cmd::kConnect, v4_target(), Credentials{"al", "pw1"},
                    Socks5Handshake::Send::kPipelined);
  EXPECT_EQ(take_output(h), (Bytes{5, 2, 0, 2}));
  EXPECT_TRUE(h.output().empty());
  h.input(Bytes{5, 2});
  EXPECT_EQ(take_output(h), (Bytes{1, 2, 'a', 'l', 3, 'p', 'w', '1'}));
  h.input(Bytes{1, 0});
  EXPECT_EQ(take_output(h), (Bytes{5, 1, 0, 1, 10, 81, 0, 2, 0x1f, 0x90}));
}

TEST(Socks5Client, BytesAfterTheReplyBelongToTheRelay) {
  Socks5Handshake h(Cmd::kConnect, v4_target(), std::nullopt);
  take_output(h);
  // The method answer, the reply and the target's first bytes ("SSH-") in one read.
  const Bytes in = {5, 0, 5, 0, 0, 1, 1, 2, 3, 4, 0, 80, 'S', 'S', 'H', '-'};
  EXPECT_EQ(h.input(std::span(in).first(2)), 2u);
  take_output(h);
  EXPECT_EQ(h.input(std::span(in).subspan(2)), 10u);
  EXPECT_EQ(h.state(), HandshakeState::kDone);
  EXPECT_EQ(h.input(Bytes{1, 2, 3}), 0u);  // done: nothing more is taken
}

TEST(Socks5Client, RepliesReadOneByteAtATime) {
  Socks5Handshake h(Cmd::kConnect, Target{{}, "example.test", 443}, Credentials{"alice", "secret"});
  take_output(h);
  const Bytes method = {5, 2};
  for (uint8_t b : method) EXPECT_EQ(h.input(Bytes{b}), 1u);
  take_output(h);
  for (uint8_t b : Bytes{1, 0}) EXPECT_EQ(h.input(Bytes{b}), 1u);
  take_output(h);
  // A reply whose BND is a name (ATYP 3).
  const Bytes reply = {5, 0, 0, 3, 4, 'p', 'r', 'x', 'y', 0x04, 0x38};
  for (size_t i = 0; i < reply.size(); ++i) {
    EXPECT_EQ(h.state(), HandshakeState::kInProgress) << i;
    EXPECT_EQ(h.input(Bytes{reply[i]}), 1u);
  }
  EXPECT_EQ(h.state(), HandshakeState::kDone);
  EXPECT_EQ(h.bound_domain(), "prxy");
  EXPECT_EQ(h.bound().port, 1080);
}

TEST(Socks5Client, UsernamePasswordAuthentication) {
  Socks5Handshake h(Cmd::kConnect, v4_target(), Credentials{"al", "pw1"});
  EXPECT_EQ(take_output(h), (Bytes{5, 2, 0, 2}));  // offers none and username/password
  h.input(Bytes{5, 2});
  // RFC 1929 §2: VER=1 ULEN UNAME PLEN PASSWD.
  EXPECT_EQ(take_output(h), (Bytes{1, 2, 'a', 'l', 3, 'p', 'w', '1'}));
  h.input(Bytes{1, 0});
  EXPECT_EQ(take_output(h), (Bytes{5, 1, 0, 1, 10, 81, 0, 2, 0x1f, 0x90}));
  h.input(Bytes{5, 0, 0, 1, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(h.state(), HandshakeState::kDone);
}

TEST(Socks5Client, CredentialsGivenButTheServerNeedsNone) {
  Socks5Handshake h(Cmd::kConnect, v4_target(), Credentials{"al", "pw"});
  take_output(h);
  h.input(Bytes{5, 0});
  EXPECT_EQ(take_output(h).at(1), 1);  // straight to the CONNECT request
}

TEST(Socks5Client, AuthenticationRejected) {
  Socks5Handshake h(Cmd::kConnect, v4_target(), Credentials{"al", "bad"});
  take_output(h);
  h.input(Bytes{5, 2});
  take_output(h);
  h.input(Bytes{1, 1});
  EXPECT_EQ(h.state(), HandshakeState::kFailed);
  EXPECT_NE(h.error().find("authentication failed"), std::string::npos) << h.error();
  EXPECT_FALSE(h.got_reply());
  EXPECT_TRUE(h.output().empty());
}

TEST(Socks5Client, ServerWantsAuthenticationWeHaveNone) {
  Socks5Handshake h(Cmd::kConnect, v4_target(), std::nullopt);
  take_output(h);
  h.input(Bytes{5, 0xff});
  EXPECT_EQ(h.state(), HandshakeState::kFailed);
  EXPECT_NE(h.error().find("--socks-user"), std::string::npos) << h.error();
}

TEST(Socks5Client, MethodNotOfferedIsRefused) {
  Socks5Handshake h(Cmd::kConnect, v4_target(), std::nullopt);
  take_output(h);
  h.input(Bytes{5, 2});  // username/password, but none was offered
  EXPECT_EQ(h.state(), HandshakeState::kFailed);
  EXPECT_NE(h.error().find("not offered"), std::string::npos) << h.error();
}

TEST(Socks5Client, NotASocksServer) {
  Socks5Handshake h(Cmd::kConnect, v4_target(), std::nullopt);
  take_output(h);
  h.input(Bytes{'H', 'T', 'T', 'P'});
  EXPECT_EQ(h.state(), HandshakeState::kFailed);
  EXPECT_NE(h.error().find("not a SOCKS5 server"), std::string::npos) << h.error();
}

TEST(Socks5Client, FailureReplyIsFinalAfterTwoBytes) {
  for (uint8_t rep = 1; rep <= 9; ++rep) {
    Socks5Handshake h(Cmd::kConnect, v4_target(), std::nullopt);
    take_output(h);
    h.input(Bytes{5, 0});
    take_output(h);
    // The server says "refused" and closes: no ATYP or BND follows.
    EXPECT_EQ(h.input(Bytes{5, rep, 0, 1, 0}), 2u);
    EXPECT_EQ(h.state(), HandshakeState::kFailed);
    EXPECT_TRUE(h.got_reply());
    EXPECT_EQ(h.reply_code(), rep);
    EXPECT_NE(h.error().find(Socks5Handshake::reply_text(rep)), std::string::npos) << h.error();
  }
  EXPECT_STREQ(Socks5Handshake::reply_text(5), "connection refused");
  EXPECT_STREQ(Socks5Handshake::reply_text(4), "host unreachable");
}

TEST(Socks5Client, UnknownAddressTypeInTheReply) {
  Socks5Handshake h(Cmd::kConnect, v4_target(), std::nullopt);
  take_output(h);
  h.input(Bytes{5, 0});
  take_output(h);
  h.input(Bytes{5, 0, 0, 9, 1, 2, 3, 4, 5, 6});
  EXPECT_EQ(h.state(), HandshakeState::kFailed);
  EXPECT_NE(h.error().find("address type 9"), std::string::npos) << h.error();
}

TEST(Socks5Client, DomainAndIpv6Requests) {
  {
    Socks5Handshake h(Cmd::kConnect, Target{{}, "ab.c", 80}, std::nullopt);
    take_output(h);
    h.input(Bytes{5, 0});
    EXPECT_EQ(take_output(h), (Bytes{5, 1, 0, 3, 4, 'a', 'b', '.', 'c', 0, 80}));
  }
  {
    Socks5Handshake h(Cmd::kConnect, Target{*IpAddr::parse("fd81::2"), "", 80}, std::nullopt);
    take_output(h);
    h.input(Bytes{5, 0});
    Bytes want = {5, 1, 0, 4, 0xfd, 0x81};
    want.resize(want.size() + 13, 0);
    want.insert(want.end(), {2, 0, 80});
    EXPECT_EQ(take_output(h), want);
    Bytes reply = {5, 0, 0, 4};
    const auto b = IpAddr::parse("fd80::2")->bytes16();
    reply.insert(reply.end(), b.begin(), b.end());
    reply.insert(reply.end(), {0x04, 0x38});
    EXPECT_EQ(h.input(reply), reply.size());
    EXPECT_EQ(h.state(), HandshakeState::kDone);
    EXPECT_EQ(h.bound().addr, *IpAddr::parse("fd80::2"));
  }
}

TEST(Socks5Client, UdpAssociateGivesTheRelayEndpoint) {
  // RFC 1928 §7: the client sends the address it will send from (0.0.0.0:0 if unknown).
  Socks5Handshake h(Cmd::kUdpAssociate, Target{Ipv4Addr(), "", 0}, std::nullopt);
  take_output(h);
  h.input(Bytes{5, 0});
  EXPECT_EQ(take_output(h), (Bytes{5, 3, 0, 1, 0, 0, 0, 0, 0, 0}));
  h.input(Bytes{5, 0, 0, 1, 10, 80, 0, 2, 0xa0, 0x00});
  EXPECT_EQ(h.state(), HandshakeState::kDone);
  EXPECT_EQ(h.bound().addr, IpAddr(Ipv4Addr(10, 80, 0, 2)));
  EXPECT_EQ(h.bound().port, 0xa000);
}

TEST(Socks5Client, OutputWrittenInParts) {
  Socks5Handshake h(Cmd::kConnect, v4_target(), Credentials{"user", "pass"});
  h.consume_output(1);
  EXPECT_EQ(Bytes(h.output().begin(), h.output().end()), (Bytes{2, 0, 2}));
  h.consume_output(3);
  EXPECT_TRUE(h.output().empty());
}

TEST(Socks5Client, UnencodableTargetsAndCredentialsFailAtOnce) {
  {
    Socks5Handshake h(Cmd::kConnect, Target{{}, std::string(256, 'a'), 80}, std::nullopt);
    EXPECT_EQ(h.state(), HandshakeState::kFailed);
    EXPECT_TRUE(h.output().empty());
    EXPECT_EQ(h.input(Bytes{5, 0}), 0u);
  }
  {
    Socks5Handshake h(Cmd::kConnect, v4_target(), Credentials{"", "x"});
    EXPECT_EQ(h.state(), HandshakeState::kFailed);
    EXPECT_NE(h.error().find("user name"), std::string::npos);
  }
  {
    Socks5Handshake h(Cmd::kConnect, v4_target(), Credentials{"u", std::string(256, 'p')});
    EXPECT_EQ(h.state(), HandshakeState::kFailed);
    EXPECT_NE(h.error().find("password"), std::string::npos);
  }
  // 255 bytes is the longest name that fits.
  Socks5Handshake ok(Cmd::kConnect, Target{{}, std::string(255, 'a'), 80}, std::nullopt);
  EXPECT_EQ(ok.state(), HandshakeState::kInProgress);
}

TEST(Socks5Client, RandomServerBytesNeverOverReadOrCrash) {
  std::random_device rd;
  const uint32_t seed = rd();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  for (int round = 0; round < 20000; ++round) {
    const bool creds = rng() & 1;
    Socks5Handshake h(rng() & 1 ? Cmd::kConnect : Cmd::kUdpAssociate, v4_target(),
                      creds ? std::optional(Credentials{"u", "p"}) : std::nullopt);
    // Mostly plausible bytes (small values), so the deeper phases are reached too.
    for (int chunk = 0; chunk < 8 && h.state() == HandshakeState::kInProgress; ++chunk) {
      take_output(h);
      Bytes in(std::uniform_int_distribution<size_t>(0, 12)(rng));
      for (auto& b : in) b = static_cast<uint8_t>(rng() % 4 == 0 ? rng() : rng() % 6);
      const size_t used = h.input(in);
      ASSERT_LE(used, in.size()) << "seed " << seed;
      // While in progress every byte read is part of the handshake.
      if (h.state() == HandshakeState::kInProgress) {
        ASSERT_EQ(used, in.size()) << "seed " << seed;
      }
      if (h.state() == HandshakeState::kFailed) {
        ASSERT_FALSE(h.error().empty()) << "seed " << seed;
      }
    }
  }
}

}  // namespace
}  // namespace utcp::proxy
