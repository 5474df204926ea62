// SPDX-License-Identifier: BSD-2-Clause
// The tools' connection timeouts on virtual time: idle and header deadlines (ConnTimeouts),
// what HttpSession reports while a request head is incomplete, the 408 it answers when the
// header timeout expires, and --keepalive's parsing.
#include "conn_timeouts.hpp"

#include <gtest/gtest.h>

#include <string>

#include "connection_options.hpp"
#include "http_handler.hpp"

namespace utcp::tools {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Instant at_ms(int64_t ms) {
  return instant_from_us(ms * 1000);
}

TEST(ConnTimeouts, IdleConnectionExpiresAfterTheIdleTimeUnlessSomethingMoves) {
  ConnTimeouts t({.idle = seconds(2)});
  t.add(1, at_ms(0));
  t.add(2, at_ms(0));
  EXPECT_EQ(t.next_deadline(), at_ms(2000));
  t.activity(2, at_ms(1500));
  EXPECT_TRUE(t.expired(at_ms(1999)).empty());
  const auto first = t.expired(at_ms(2000));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].first, 1u);
  EXPECT_EQ(first[0].second, TimeoutReason::kIdle);
  EXPECT_EQ(t.size(), 1u);
  // 2 moved at 1.5 s: its deadline is 3.5 s.
  EXPECT_EQ(t.next_deadline(), at_ms(3500));
  EXPECT_TRUE(t.expired(at_ms(3499)).empty());
  const auto second = t.expired(at_ms(3500));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].first, 2u);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.next_deadline(), kNever);
}

TEST(ConnTimeouts, RemovedConnectionsNeverExpire) {
  ConnTimeouts t({.idle = seconds(1)});
  t.add(7, at_ms(0));
  t.remove(7);
  EXPECT_EQ(t.next_deadline(), kNever);
  EXPECT_TRUE(t.expired(at_ms(10'000)).empty());
  // A socket id reused later starts afresh.
  t.add(7, at_ms(20'000));
  EXPECT_TRUE(t.expired(at_ms(20'999)).empty());
  EXPECT_EQ(t.expired(at_ms(21'000)).size(), 1u);
}

TEST(ConnTimeouts, OffMeansNever) {
  ConnTimeouts t({});
  t.add(1, at_ms(0));
  t.header_clock(1, true, at_ms(0));
  EXPECT_EQ(t.next_deadline(), kNever);
  EXPECT_TRUE(t.expired(at_ms(1'000'000'000)).empty());
}

// A slowloris client: one byte of request head every second keeps the idle clock young,
// but the head is still incomplete when the header timeout comes.
TEST(ConnTimeouts, SlowHeadIsCaughtByTheHeaderTimeoutNotTheIdleOne) {
  ConnTimeouts t({.idle = seconds(2), .header = seconds(5)});
  HttpSession http("/nonexistent-root");
  t.add(3, at_ms(0));
  t.header_clock(3, http.awaiting_request(), at_ms(0));
  EXPECT_TRUE(http.awaiting_request());  // nothing yet: the first head is awaited
  const std::string slow = "GET / HTTP/1.1\r\nHost: x\r\n";
  std::vector<std::pair<ConnTimeouts::Key, TimeoutReason>> out;
  int64_t now = 0;
  for (size_t i = 0; i < slow.size() && out.empty(); ++i) {
    now = 1000 * static_cast<int64_t>(i + 1);
    out = t.expired(at_ms(now));
    if (!out.empty()) break;
    http.feed(std::span(reinterpret_cast<const uint8_t*>(slow.data()) + i, 1));
    t.activity(3, at_ms(now));
    t.header_clock(3, http.awaiting_request(), at_ms(now));
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second, TimeoutReason::kHeader);
  EXPECT_EQ(now, 5000);

  // The session answers 408 with "Connection: close" and is then done.
  http.time_out();
  std::vector<uint8_t> buf(4096);
  const size_t n = http.produce(buf);
  const std::string response(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(n));
  EXPECT_EQ(response.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(http.done());
  EXPECT_FALSE(http.awaiting_request());
}

TEST(ConnTimeouts, HeaderClockStopsWhenTheHeadIsCompleteAndRestartsWithTheNextRequest) {
  ConnTimeouts t({.header = seconds(5)});
  t.add(4, at_ms(0));
  t.header_clock(4, true, at_ms(0));
  t.header_clock(4, false, at_ms(4000));  // the head completed in time
  EXPECT_TRUE(t.expired(at_ms(5000)).empty());
  // The next request begins at 60 s: its 5 s start then, not at the first one's start.
  t.header_clock(4, true, at_ms(60'000));
  t.header_clock(4, true, at_ms(61'000));  // still waiting: the clock is not restarted
  EXPECT_EQ(t.next_deadline(), at_ms(65'000));
  EXPECT_TRUE(t.expired(at_ms(64'999)).empty());
  EXPECT_EQ(t.expired(at_ms(65'000)).size(), 1u);
}

TEST(HttpSessionTimeouts, AwaitingRequestFollowsTheRequestHeads) {
  HttpSession http("/nonexistent-root");
  EXPECT_TRUE(http.awaiting_request());
  const std::string req = "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n";
  http.feed(std::span(reinterpret_cast<const uint8_t*>(req.data()), req.size()));
  EXPECT_FALSE(http.awaiting_request());  // a whole head is there to answer
  std::vector<uint8_t> buf(4096);
  EXPECT_GT(http.produce(buf), 0u);  // 404, kept alive
  EXPECT_FALSE(http.done());
  EXPECT_FALSE(http.awaiting_request());  // kept alive and silent: idle, not slow
  http.feed(std::span(reinterpret_cast<const uint8_t*>("GE"), 2));
  EXPECT_TRUE(http.awaiting_request());  // a second request has begun
}

TEST(KeepaliveOption, ParsesIdleIntervalAndCount) {
  const auto k = parse_keepalive("60,10,5");
  ASSERT_TRUE(k.has_value());
  EXPECT_TRUE(k->enabled);
  EXPECT_EQ(k->idle, seconds(60));
  EXPECT_EQ(k->interval, seconds(10));
  EXPECT_EQ(k->count, 5u);
  const auto fractional = parse_keepalive("0.5,0.25,1");
  ASSERT_TRUE(fractional.has_value());
  EXPECT_EQ(fractional->idle, milliseconds(500));
  for (const char* bad : {"", "60", "60,10", "60,10,5,1", "0,10,5", "60,-1,5", "60,10,0",
                          "60,10,2.5", "60,10,256", "x,10,5", "60,,5", "60,10,5 "}) {
    EXPECT_FALSE(parse_keepalive(bad).has_value()) << bad;
  }
}

TEST(KeepaliveOption, TimeoutsComeFromSeconds) {
  ConnectionOptions o;
  EXPECT_FALSE(o.timeouts().any());
  EXPECT_FALSE(o.keepalive_config().has_value());
  o.idle_timeout_s = 2;
  o.header_timeout_s = 0.5;
  EXPECT_EQ(o.timeouts().idle, seconds(2));
  EXPECT_EQ(o.timeouts().header, milliseconds(500));
}

}  // namespace
}  // namespace utcp::tools
