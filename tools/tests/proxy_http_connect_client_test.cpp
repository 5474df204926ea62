// SPDX-License-Identifier: BSD-2-Clause
// HttpConnectHandshake: the exact CONNECT request (authority form, Host, Basic
// Proxy-Authorization), status lines of each kind, the header read a byte at a time, bytes
// after the blank line left for the tunnel, interim 1xx responses skipped, the header limit,
// and random proxy bytes (seeded) that never crash or over-read.
#include "http_connect_client.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

namespace utcp::proxy {
namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string take_output(HttpConnectHandshake& h) {
  const auto out = h.output();
  std::string s(out.begin(), out.end());
  h.consume_output(s.size());
  return s;
}

Target v4_target() {
  return Target{Ipv4Addr(10, 81, 0, 2), "", 8080};
}

TEST(HttpConnectClient, RequestIsAuthorityForm) {
  HttpConnectHandshake h(v4_target(), std::nullopt);
  EXPECT_EQ(take_output(h), "CONNECT 10.81.0.2:8080 HTTP/1.1\r\nHost: 10.81.0.2:8080\r\n\r\n");
  HttpConnectHandshake v6(Target{*IpAddr::parse("fd81::2"), "", 443}, std::nullopt);
  EXPECT_EQ(take_output(v6), "CONNECT [fd81::2]:443 HTTP/1.1\r\nHost: [fd81::2]:443\r\n\r\n");
  HttpConnectHandshake named(Target{Ipv4Addr(198, 18, 0, 5), "example.test", 80}, std::nullopt);
  EXPECT_EQ(take_output(named),
            "CONNECT example.test:80 HTTP/1.1\r\nHost: example.test:80\r\n\r\n");
}

TEST(HttpConnectClient, BasicProxyAuthorization) {
  // RFC 7617 §2's example: Aladdin / open sesame.
  HttpConnectHandshake h(v4_target(), Credentials{"Aladdin", "open sesame"});
  EXPECT_EQ(take_output(h),
            "CONNECT 10.81.0.2:8080 HTTP/1.1\r\nHost: 10.81.0.2:8080\r\n"
            "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
}

TEST(HttpConnectClient, Base64PaddingRfc4648Vectors) {
  // RFC 4648 §10.
  EXPECT_EQ(HttpConnectHandshake::base64(""), "");
  EXPECT_EQ(HttpConnectHandshake::base64("f"), "Zg==");
  EXPECT_EQ(HttpConnectHandshake::base64("fo"), "Zm8=");
  EXPECT_EQ(HttpConnectHandshake::base64("foo"), "Zm9v");
  EXPECT_EQ(HttpConnectHandshake::base64("foob"), "Zm9vYg==");
  EXPECT_EQ(HttpConnectHandshake::base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(HttpConnectHandshake::base64("foobar"), "Zm9vYmFy");
}

TEST(HttpConnectClient, TwoHundredOpensTheTunnelAndLeavesTheRest) {
  HttpConnectHandshake h(v4_target(), std::nullopt);
  take_output(h);
  const std::string in =
      "HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\nContent-Length: 5\r\n\r\nSSH-2";
  EXPECT_EQ(h.input(bytes_of(in)), in.size() - 5);
  EXPECT_EQ(h.state(), HandshakeState::kDone);
  EXPECT_EQ(h.status(), 200);
  EXPECT_EQ(h.input(bytes_of("more")), 0u);
}

TEST(HttpConnectClient, HeaderReadOneByteAtATime) {
  HttpConnectHandshake h(v4_target(), std::nullopt);
  take_output(h);
  const std::string in = "HTTP/1.0 200\r\n\r\n";  // no reason phrase
  for (size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(h.state(), HandshakeState::kInProgress) << i;
    EXPECT_EQ(h.input(bytes_of(in.substr(i, 1))), 1u);
  }
  EXPECT_EQ(h.state(), HandshakeState::kDone);
}

TEST(HttpConnectClient, BareLineFeedsAreAccepted) {
  HttpConnectHandshake h(v4_target(), std::nullopt);
  const std::string in = "HTTP/1.1 204 OK\nServer: y\n\nX";
  EXPECT_EQ(h.input(bytes_of(in)), in.size() - 1);
  EXPECT_EQ(h.state(), HandshakeState::kDone);
  EXPECT_EQ(h.status(), 204);
}

TEST(HttpConnectClient, InterimResponsesAreSkipped) {
  HttpConnectHandshake h(v4_target(), std::nullopt);
  const std::string in = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
  EXPECT_EQ(h.input(bytes_of(in)), in.size());
  EXPECT_EQ(h.state(), HandshakeState::kDone);
  EXPECT_EQ(h.status(), 200);
}

TEST(HttpConnectClient, FailureStatusesAreErrors) {
  struct Case {
    std::string response;
    int status;
    std::string says;
  };
  for (const auto& c :
       {Case{"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", 407, "--proxy-user"},
        Case{"HTTP/1.1 403 Forbidden\r\n\r\n", 403, "403 Forbidden"},
        Case{"HTTP/1.0 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad", 502, "502 Bad Gateway"},
        Case{"HTTP/1.1 301 Moved\r\nLocation: x\r\n\r\n", 301, "301"}}) {
    HttpConnectHandshake h(v4_target(), std::nullopt);
    h.input(bytes_of(c.response));
    EXPECT_EQ(h.state(), HandshakeState::kFailed) << c.response;
    EXPECT_EQ(h.status(), c.status);
    EXPECT_NE(h.error().find(c.says), std::string::npos) << h.error();
  }
}

TEST(HttpConnectClient, MalformedStatusLines) {
  for (const char* bad : {"SSH-2.0-OpenSSH\r\n\r\n", "HTTP/2 200\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n",
                          "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n", "\r\n\r\n",
                          "HTTP/1.1 101 Switching\r\n\r\n"}) {
    HttpConnectHandshake h(v4_target(), std::nullopt);
    h.input(bytes_of(std::string(bad)));
    EXPECT_EQ(h.state(), HandshakeState::kFailed) << bad;
    EXPECT_FALSE(h.error().empty());
    EXPECT_EQ(h.error().find('\r'), std::string::npos);  // one printable line
  }
}

TEST(HttpConnectClient, HeaderLimit) {
  HttpConnectHandshake h(v4_target(), std::nullopt);
  std::string big = "HTTP/1.1 200 OK\r\n";
  while (big.size() <= HttpConnectHandshake::kMaxHeader) big += "X-Filler: 0123456789\r\n";
  const size_t used = h.input(bytes_of(big));
  EXPECT_EQ(h.state(), HandshakeState::kFailed);
  EXPECT_LE(used, HttpConnectHandshake::kMaxHeader + 1);
  EXPECT_NE(h.error().find("longer than 16 KiB"), std::string::npos) << h.error();
}

TEST(HttpConnectClient, UnsendableNamesAndUsersFailAtOnce) {
  for (const std::string& name : {std::string("a\r\nX-Injected: 1"), std::string("a b"),
                                  std::string("a/b"), std::string("\x01")}) {
    HttpConnectHandshake h(Target{{}, name, 80}, std::nullopt);
    EXPECT_EQ(h.state(), HandshakeState::kFailed);
    EXPECT_TRUE(h.output().empty());
  }
  HttpConnectHandshake h(v4_target(), Credentials{"a:b", "c"});
  EXPECT_EQ(h.state(), HandshakeState::kFailed);
  EXPECT_NE(h.error().find("':'"), std::string::npos);
}

TEST(HttpConnectClient, RandomProxyBytesNeverOverReadOrCrash) {
  std::random_device rd;
  const uint32_t seed = rd();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  const std::string alphabet = "HTP/1. 02\r\n:x";
  for (int round = 0; round < 5000; ++round) {
    HttpConnectHandshake h(v4_target(), std::nullopt);
    take_output(h);
    std::string start = rng() % 2 ? "HTTP/1.1 " : "";
    for (int chunk = 0; chunk < 10 && h.state() == HandshakeState::kInProgress; ++chunk) {
      std::string in = start;
      start.clear();
      const size_t n = std::uniform_int_distribution<size_t>(0, 40)(rng);
      for (size_t i = 0; i < n; ++i) {
        in.push_back(rng() % 8 == 0 ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()]);
      }
      const size_t used = h.input(bytes_of(in));
      ASSERT_LE(used, in.size()) << "seed " << seed;
      if (h.state() == HandshakeState::kInProgress) {
        ASSERT_EQ(used, in.size()) << "seed " << seed;
      }
      if (h.state() == HandshakeState::kFailed) {
        ASSERT_FALSE(h.error().empty()) << "seed " << seed;
      }
      if (h.state() == HandshakeState::kDone) {
        ASSERT_GE(h.status(), 200) << "seed " << seed;
        ASSERT_LT(h.status(), 300) << "seed " << seed;
      }
    }
  }
}

}  // namespace
}  // namespace utcp::proxy
