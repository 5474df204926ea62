// SPDX-License-Identifier: BSD-2-Clause
// The runner must catch every kind of wrong behaviour a script describes: these scripts are
// deliberately wrong about utcp, and each must fail with the right explanation. The same
// checks run through the shared object, as packetdrill would load it.
#include <gtest/gtest.h>

#include <sstream>

#include "runner.hpp"
#include "script_parser.hpp"

namespace utcp::drill {
namespace {

constexpr const char* kPassive =
    "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
    "+0 bind(3, ..., ...) = 0\n"
    "+0 listen(3, 1) = 0\n"
    "+0 < S 0:0(0) win 65535 <mss 1000>\n"
    "+0 > S. 0:0(0) ack 1 <...>\n"
    "+0 < . 1:1(0) ack 1 win 65535\n"
    "+0 accept(3, ..., ...) = 4\n";

class RunnerTest : public ::testing::TestWithParam<bool> {
 protected:
  RunResult run(const std::string& body) {
    auto parsed = parse_script(body, "self.pkt");
    EXPECT_TRUE(parsed.script) << parsed.error;
    if (!parsed.script) return {};
    RunConfig cfg;
    if (GetParam()) cfg.so_path = UTCP_PACKETDRILL_SO;
    std::ostringstream log;
    return run_script(*parsed.script, cfg, log);
  }
  void expect_fail(const std::string& body, const std::string& why) {
    RunResult r = run(body);
    EXPECT_EQ(r.outcome, Outcome::kFail) << body;
    EXPECT_NE(r.message.find(why), std::string::npos) << r.message;
  }
};

TEST_P(RunnerTest, CorrectScriptPasses) {
  RunResult r = run(std::string(kPassive) +
                    "+0 write(4, ..., 10) = 10\n"
                    "+0 > P. 1:11(10) ack 1\n"
                    "+.1 < . 1:1(0) ack 11 win 65535\n");
  EXPECT_EQ(r.outcome, Outcome::kPass) << r.message;
}

TEST_P(RunnerTest, WrongFlagsFail) {
  expect_fail(std::string(kPassive) + "+0 write(4, ..., 10) = 10\n+0 > F. 1:11(10) ack 1\n",
              "differs (flags)");
}

TEST_P(RunnerTest, WrongAckFails) {
  expect_fail(std::string(kPassive) + "+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 7\n", "ack");
}

TEST_P(RunnerTest, WrongLengthFails) {
  expect_fail(std::string(kPassive) + "+0 write(4, ..., 10) = 10\n+0 > P. 1:21(20) ack 1\n",
              "did not come");
}

TEST_P(RunnerTest, WrongOptionsFail) {
  expect_fail(
      "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
      "+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 <mss 1000>\n"
      "+0 > S. 0:0(0) ack 1 <mss 1000>\n",
      "mss option");
}

TEST_P(RunnerTest, PacketBeforeItsTimeFails) {
  // The SYN-ACK goes at once; the script claims it comes 1 s later.
  expect_fail(
      "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
      "+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 <mss 1000>\n"
      "+1 > S. 0:0(0) ack 1 <...>\n",
      "too early");
}

TEST_P(RunnerTest, PacketAfterItsWindowFails) {
  // The retransmission comes after at least 200 ms, not within 4 ms of the write.
  expect_fail(std::string(kPassive) +
                  "+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1\n"
                  "+.05 > P. 1:11(10) ack 1\n",
              "did not come by");
}

TEST_P(RunnerTest, EarlyRetransmissionFails) {
  expect_fail(std::string(kPassive) +
                  "+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1\n"
                  "+3 > P. 1:11(10) ack 1\n",
              "too early");
}

TEST_P(RunnerTest, MissingPacketFails) {
  expect_fail(std::string(kPassive) + "+0 > . 1:1(0) ack 1\n", "did not come");
}

TEST_P(RunnerTest, UnexpectedPacketAtTheEndFails) {
  expect_fail(std::string(kPassive) + "+0 write(4, ..., 10) = 10\n", "unexpected outbound");
}

TEST_P(RunnerTest, WrongReturnValueFails) {
  expect_fail(std::string(kPassive) + "+0 write(4, ..., 10) = 11\n+0 > P. 1:11(10) ack 1\n",
              "returned 10, expected 11");
}

TEST_P(RunnerTest, WrongErrnoFails) {
  expect_fail(std::string(kPassive) +
                  "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                  "+0 read(4, ..., 10) = -1 ECONNRESET (Connection reset by peer)\n",
              "EAGAIN");
}

TEST_P(RunnerTest, UnmarkedBlockingCallFails) {
  expect_fail(std::string(kPassive) + "+0 read(4, ..., 10) = 10\n", "the call blocked");
}

TEST_P(RunnerTest, BlockingCallReturningAtTheWrongTimeFails) {
  expect_fail(std::string(kPassive) +
                  "+0...0.5 read(4, ..., 100) = 10\n"
                  "+.2 < P. 1:11(10) ack 1 win 65535\n"
                  "+0~+.5 > . 1:1(0) ack 11\n",
              "returned at");
}

TEST_P(RunnerTest, OutOfParamValuesFail) {
  expect_fail(std::string(kPassive) + "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [5], [4]) = 0\n",
              "option value is 0");
  expect_fail(
      std::string(kPassive) + "+0 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 0) = 1\n",
      "returned 0, expected 1");
}

TEST_P(RunnerTest, UnsupportedScriptsAreSkippedNotPassed) {
  RunResult r = run("0 `echo hi`\n");
  EXPECT_EQ(r.outcome, Outcome::kSkip);
}

INSTANTIATE_TEST_SUITE_P(LinkedAndSharedObject, RunnerTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "so" : "linked";
                         });

}  // namespace
}  // namespace utcp::drill
