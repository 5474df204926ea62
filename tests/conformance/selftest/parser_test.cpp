// SPDX-License-Identifier: BSD-2-Clause
// The script parser: every construct of the language, and errors with line numbers.
#include <gtest/gtest.h>

#include "script_parser.hpp"

namespace utcp::drill {
namespace {

TEST(ScriptParser, TimesOfEveryKind) {
  auto r = parse_script(R"(
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0.25 close(3) = 0
1.5~2 close(3) = 0
+.1~+.3 close(3) = 0
* close(3) = 0
+0...0.3 read(4, ..., 10) = 10
)",
                        "t.pkt");
  ASSERT_TRUE(r.script) << r.error;
  const auto& e = r.script->events;
  ASSERT_EQ(e.size(), 6u);
  EXPECT_EQ(e[0].time.kind, TimeSpec::Kind::kAbsolute);
  EXPECT_EQ(e[0].time.start_usecs, 0);
  EXPECT_EQ(e[1].time.kind, TimeSpec::Kind::kRelative);
  EXPECT_EQ(e[1].time.start_usecs, 250'000);
  EXPECT_EQ(e[2].time.start_usecs, 1'500'000);
  EXPECT_EQ(*e[2].time.range_end_usecs, 2'000'000);
  EXPECT_FALSE(e[2].time.range_end_relative);
  EXPECT_EQ(e[3].time.start_usecs, 100'000);
  EXPECT_EQ(*e[3].time.range_end_usecs, 300'000);
  EXPECT_TRUE(e[3].time.range_end_relative);
  EXPECT_EQ(e[4].time.kind, TimeSpec::Kind::kAny);
  EXPECT_EQ(*e[5].time.blocking_end_usecs, 300'000);
  EXPECT_EQ(e[5].line, 7);
}

TEST(ScriptParser, PacketsWithFlagsFieldsAndOptions) {
  auto r = parse_script(
      "0 < S 0:0(0) win 32792 <mss 1000,sackOK,TS val 100 ecr 0,nop,wscale 7>\n"
      "+0 > S. 0:0(0) ack 1 <...>\n"
      "+0 < P.U 1:11(10) ack 1 urg 10 win 257 <sack 5:10 20:30,eol>\n"
      "+0 > F. 1:1(0) ack 11\n"
      "+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]\n",
      "p.pkt");
  ASSERT_TRUE(r.script) << r.error;
  const auto& e = r.script->events;
  ASSERT_EQ(e.size(), 5u);
  const PacketSpec& syn = e[0].packet;
  EXPECT_EQ(syn.direction, '<');
  EXPECT_EQ(syn.flags, 0x02);
  EXPECT_EQ(*syn.win, 32792u);
  ASSERT_EQ(syn.options.size(), 5u);
  EXPECT_EQ(syn.options[0].kind, TcpOptionSpec::Kind::kMss);
  EXPECT_EQ(syn.options[0].a, 1000u);
  EXPECT_EQ(syn.options[2].kind, TcpOptionSpec::Kind::kTimestamp);
  EXPECT_EQ(syn.options[2].a, 100u);
  EXPECT_EQ(syn.options[4].a, 7u);
  EXPECT_TRUE(e[1].packet.any_options);
  EXPECT_EQ(e[1].packet.flags, 0x12);
  EXPECT_EQ(*e[1].packet.ack, 1u);
  const PacketSpec& urg = e[2].packet;
  EXPECT_EQ(urg.flags, 0x08 | 0x10 | 0x20);
  EXPECT_EQ(urg.len, 10u);
  EXPECT_EQ(*urg.urg, 10u);
  ASSERT_EQ(urg.options[0].sacks.size(), 2u);
  EXPECT_EQ(urg.options[0].sacks[1], (std::pair<uint32_t, uint32_t>{20, 30}));
  EXPECT_EQ(e[3].packet.flags, 0x11);
  EXPECT_TRUE(e[4].packet.icmp);
  EXPECT_EQ(e[4].packet.icmp_type, 3);
  EXPECT_EQ(e[4].packet.icmp_code, 4);
  EXPECT_EQ(*e[4].packet.icmp_mtu, 1200u);
  EXPECT_EQ(e[4].packet.len, 1460u);
}

TEST(ScriptParser, CallsWithStructuredArgumentsAndErrno) {
  auto r = parse_script(
      "0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
      "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
      "+0 poll([{fd=4, events=POLLIN, revents=POLLIN|POLLOUT}], 1, 0) = 1\n"
      "+0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n"
      "+0 writev(4, [{..., 10}, {..., 20}], 2) = 30\n"
      "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = ...\n",
      "c.pkt");
  ASSERT_TRUE(r.script) << r.error;
  const auto& e = r.script->events;
  EXPECT_EQ(e[0].call.name, "fcntl");
  EXPECT_EQ(e[0].call.args[2].kind, Expr::Kind::kOr);
  EXPECT_EQ(e[1].call.ret.value, -1);
  EXPECT_EQ(e[1].call.errno_name, "EINPROGRESS");
  const Expr& pollfds = e[2].call.args[0];
  ASSERT_EQ(pollfds.kind, Expr::Kind::kList);
  ASSERT_EQ(pollfds.items[0].kind, Expr::Kind::kStruct);
  EXPECT_EQ(pollfds.items[0].names[2], "revents");
  EXPECT_EQ(e[3].call.args[3].names[1], "linger");
  EXPECT_EQ(e[4].call.args[1].items.size(), 2u);
  EXPECT_EQ(e[4].call.args[1].items[1].names[1], "");
  EXPECT_EQ(e[5].call.ret.kind, Expr::Kind::kEllipsis);
}

TEST(ScriptParser, CommentsOptionsAndDefines) {
  auto r = parse_script(
      "// a comment\n--tolerance_usecs=10000\n/* block\n comment */ 0 write(4, ..., $LEN) = "
      "${LEN} // trailing\n",
      "d.pkt", {{"LEN", "1000"}});
  ASSERT_TRUE(r.script) << r.error;
  ASSERT_EQ(r.script->options.size(), 1u);
  EXPECT_EQ(r.script->options[0].first, "tolerance_usecs");
  EXPECT_EQ(r.script->options[0].second, "10000");
  ASSERT_EQ(r.script->events.size(), 1u);
  EXPECT_EQ(r.script->events[0].line, 4);
  EXPECT_EQ(r.script->events[0].call.args[2].value, 1000);
  EXPECT_EQ(r.script->events[0].call.ret.value, 1000);
}

TEST(ScriptParser, ShellAndCodeBlocksMarkTheScriptUnsupported) {
  auto shell = parse_script("0 `sysctl -q net.ipv4.tcp_sack=0`\n0 close(3) = 0\n", "s.pkt");
  ASSERT_TRUE(shell.script);
  EXPECT_NE(shell.script->unsupported.find("shell"), std::string::npos);
  auto code = parse_script("0 close(3) = 0\n%{\nprint(1)\n}%\n", "s.pkt");
  ASSERT_TRUE(code.script);
  EXPECT_NE(code.script->unsupported.find("line 2"), std::string::npos);
  EXPECT_EQ(code.script->events.size(), 1u);
}

TEST(ScriptParser, ErrorsNameTheLine) {
  auto r = parse_script("0 close(3) = 0\n\n+0 > S 1:0(5)\n", "bad.pkt");
  EXPECT_FALSE(r.script);
  EXPECT_NE(r.error.find("bad.pkt:3:"), std::string::npos) << r.error;
  auto r2 = parse_script("0 < Q 0:0(0)\n", "bad.pkt");
  EXPECT_NE(r2.error.find("flags"), std::string::npos) << r2.error;
  auto r3 = parse_script("0 close(3) = -1 ENOTANERRNO\n", "bad.pkt");
  EXPECT_NE(r3.error.find("unknown errno"), std::string::npos) << r3.error;
  auto r4 = parse_script("0 < S 0:0(0) win 70000\n", "bad.pkt");
  EXPECT_FALSE(r4.script);
  auto r5 = parse_script("0 < S 0:0(0) <md5 1>\n", "bad.pkt");
  EXPECT_NE(r5.error.find("unsupported TCP option"), std::string::npos) << r5.error;
}

}  // namespace
}  // namespace utcp::drill
