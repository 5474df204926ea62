// SPDX-License-Identifier: BSD-2-Clause
// SessionLog: ids, the -v line written once when a session ends (with the error behind it),
// the JSON records (open ones live, ended ones with how they ended and the tcp_info summary),
// totals over every session, and the bound on the ended records kept.
#include "session_log.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace utcp::proxy {
namespace {

SessionRecord tcp_record(uint16_t port) {
  SessionRecord r;
  r.client = Endpoint{Ipv4Addr(10, 77, 0, 1), port};
  r.destination = Endpoint{Ipv4Addr(10, 81, 0, 2), 80};
  r.upstream = "socks5 10.80.0.2:1080";
  return r;
}

struct Fixture {
  double now = 0;
  std::vector<std::string> lines;
  SessionLog log{[this] { return now; }, [this](const std::string& l) { lines.push_back(l); }, 3};
};

TEST(ProxySessionLog, OneLineWhenASessionEnds) {
  Fixture f;
  f.now = 1.0;
  const uint64_t id = f.log.open(tcp_record(40000));
  EXPECT_EQ(id, 1u);
  EXPECT_TRUE(f.lines.empty());  // nothing at the start: one line per session
  SessionRecord* r = f.log.find(id);
  ASSERT_NE(r, nullptr);
  r->bytes_up = 10;
  r->bytes_down = 2000;
  f.now = 3.5;
  f.log.close(id, "refused", "connection refused");
  ASSERT_EQ(f.lines.size(), 1u);
  EXPECT_EQ(f.lines[0],
            "tcp #1 10.77.0.1:40000 -> 10.81.0.2:80 via socks5 10.80.0.2:1080: refused, up 10 B, "
            "down 2000 B, 2.500 s (connection refused)");
  EXPECT_EQ(f.log.find(id), nullptr);
  f.log.close(id, "again");  // an ended id: nothing
  EXPECT_EQ(f.lines.size(), 1u);
}

TEST(ProxySessionLog, JsonHasOpenAndEndedSessionsAndTotals) {
  Fixture f;
  const uint64_t a = f.log.open(tcp_record(1));
  SessionRecord u = tcp_record(2);
  u.udp = true;
  u.domain = "example.test";
  const uint64_t b = f.log.open(u);
  f.log.find(a)->bytes_up = 5;
  tcp::TcpInfo info;
  info.srtt_us = 1234;
  info.total_retrans = 2;
  info.snd_mss = 1448;
  f.now = 2;
  f.log.close(a, "closed", "", TcpSummary::from(info));
  f.log.find(b)->bytes_down = 7;
  const auto j = f.log.to_json();
  ASSERT_EQ(j["sessions"].size(), 2u);
  // Open first, then ended.
  EXPECT_EQ(j["sessions"][0]["id"], b);
  EXPECT_EQ(j["sessions"][0]["proto"], "udp");
  EXPECT_EQ(j["sessions"][0]["end"], "open");
  EXPECT_EQ(j["sessions"][0]["domain"], "example.test");
  EXPECT_EQ(j["sessions"][1]["id"], a);
  EXPECT_EQ(j["sessions"][1]["end"], "closed");
  EXPECT_EQ(j["sessions"][1]["client"], "10.77.0.1:1");
  EXPECT_EQ(j["sessions"][1]["tcp_info"]["srtt_us"], 1234);
  EXPECT_EQ(j["sessions"][1]["tcp_info"]["total_retrans"], 2);
  EXPECT_DOUBLE_EQ(j["sessions"][1]["duration_s"].get<double>(), 2.0);
  const auto& t = j["totals"];
  EXPECT_EQ(t["tcp_sessions"], 1);
  EXPECT_EQ(t["udp_sessions"], 1);
  EXPECT_EQ(t["open_tcp"], 0);
  EXPECT_EQ(t["open_udp"], 1);
  EXPECT_EQ(t["bytes_up"], 5);
  EXPECT_EQ(t["bytes_down"], 7);  // open sessions count too
  EXPECT_EQ(t["ended"]["closed"], 1);
  EXPECT_NE(f.log.totals_line().find("closed 1"), std::string::npos) << f.log.totals_line();
}

TEST(ProxySessionLog, KeepsOnlyTheNewestEndedRecordsButCountsAll) {
  Fixture f;  // keeps 3
  for (uint16_t i = 0; i < 10; ++i) f.log.close(f.log.open(tcp_record(i)), "closed");
  const auto j = f.log.to_json();
  ASSERT_EQ(j["sessions"].size(), 3u);
  EXPECT_EQ(j["sessions"][0]["id"], 8);
  EXPECT_EQ(j["sessions"][2]["id"], 10);
  EXPECT_EQ(j["totals"]["tcp_sessions"], 10);
  EXPECT_EQ(j["totals"]["ended"]["closed"], 10);
  EXPECT_EQ(f.log.open_count(), 0u);
}

TEST(ProxySessionLog, TextRenderingIsTheSameDocument) {
  Fixture f;
  const uint64_t a = f.log.open(tcp_record(1));
  f.log.close(f.log.open(tcp_record(2)), "refused", "socks5: connection refused");
  f.log.find(a)->bytes_up = 9;
  const nlohmann::json totals = f.log.totals_json();
  EXPECT_EQ(nlohmann::json::parse(f.log.to_json_text(totals)), f.log.to_json());
  // The program's extra totals go where it puts them.
  nlohmann::json more = totals;
  more["udp_relay"] = {{"udp.flows", 3}};
  EXPECT_EQ(nlohmann::json::parse(f.log.to_json_text(more))["totals"]["udp_relay"]["udp.flows"], 3);
  EXPECT_EQ(SessionLog::kKeepEnded, 256u);
}

TEST(ProxySessionLog, UpstreamNameKeptOnceYetInEveryRecord) {
  Fixture f;
  const uint64_t a = f.log.open(tcp_record(1));
  const uint64_t b = f.log.open(tcp_record(2));
  // The live records do not each hold a copy of the name...
  EXPECT_TRUE(f.log.find(a)->upstream.empty());
  // ...but a relay may still give one session its own.
  f.log.find(b)->upstream = "direct";
  auto j = f.log.to_json();
  EXPECT_EQ(j["sessions"][0]["upstream"], "socks5 10.80.0.2:1080");
  EXPECT_EQ(j["sessions"][1]["upstream"], "direct");
  f.log.close(a, "closed");
  f.log.close(b, "closed");
  j = f.log.to_json();
  EXPECT_EQ(j["sessions"][0]["upstream"], "socks5 10.80.0.2:1080");
  EXPECT_EQ(j["sessions"][1]["upstream"], "direct");
  EXPECT_NE(f.lines[0].find("via socks5 10.80.0.2:1080: closed"), std::string::npos) << f.lines[0];
}

TEST(ProxySessionLog, EveryEndedRecordGoesToTheWriterWhateverIsKept) {
  Fixture f;  // keeps 3
  std::vector<nlohmann::json> written;
  f.log.set_ended_writer([&](const std::string& text) {
    EXPECT_EQ(text.find('\n'), std::string::npos);  // one line each
    written.push_back(nlohmann::json::parse(text));
  });
  SessionRecord named = tcp_record(7);
  named.domain = "example.test";
  f.log.close(f.log.open(named), "refused", "socks5: connection refused");
  for (uint16_t i = 0; i < 9; ++i) f.log.close(f.log.open(tcp_record(i)), "closed");
  const uint64_t open = f.log.open(tcp_record(99));
  ASSERT_EQ(written.size(), 10u);
  EXPECT_EQ(written[0]["id"], 1);
  EXPECT_EQ(written[0]["end"], "refused");
  EXPECT_EQ(written[0]["domain"], "example.test");
  EXPECT_EQ(written[0]["error"], "socks5: connection refused");
  EXPECT_EQ(written[9]["id"], 10);
  EXPECT_EQ(f.log.kept_ended(), 3u);
  // The open one is not written until asked for (the end of --stats-json).
  std::vector<std::string> open_lines;
  f.log.write_open([&](const std::string& text) { open_lines.push_back(text); });
  ASSERT_EQ(open_lines.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(open_lines[0])["id"], open);
  EXPECT_EQ(nlohmann::json::parse(open_lines[0])["end"], "open");
}

TEST(ProxySessionLog, KeepsNoEndedRecordWhenAskedTo) {
  double now = 0;
  SessionLog log([&] { return now; }, nullptr, 0);
  for (uint16_t i = 0; i < 5; ++i) log.close(log.open(tcp_record(i)), "closed");
  EXPECT_EQ(log.kept_ended(), 0u);
  EXPECT_EQ(log.to_json()["sessions"].size(), 0u);
  EXPECT_EQ(log.to_json()["totals"]["ended"]["closed"], 5);
}

TEST(ProxySessionLog, Ipv6EndpointsInBrackets) {
  Fixture f;
  SessionRecord r = tcp_record(1);
  r.client = Endpoint{*IpAddr::parse("fd77::1"), 5000};
  r.destination = Endpoint{*IpAddr::parse("fd81::2"), 443};
  f.log.close(f.log.open(r), "client-reset");
  ASSERT_EQ(f.lines.size(), 1u);
  EXPECT_NE(f.lines[0].find("[fd77::1]:5000 -> [fd81::2]:443"), std::string::npos) << f.lines[0];
}

}  // namespace
}  // namespace utcp::proxy
