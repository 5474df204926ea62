// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Runs a test body in a forked child that first enters a fresh network namespace
// (unshare(CLONE_NEWNET)). TUN devices, addresses and all traffic the body creates vanish
// with the child, so nothing can leave the namespace and nothing needs cleaning up.
//
//   TEST(X, Y) { UTCP_RUN_IN_NETNS([]() -> std::string { ...; return ""; }); }
//
// The body returns "" on success, a failure message otherwise, or "SKIP: why".
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>

namespace utcp::test {

// Why TUN-in-namespace tests cannot run here, or empty when they can.
inline std::string netns_tun_unavailable() {
  if (::geteuid() != 0) return "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) for TUN and unshare";
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) return "no /dev/net/tun in this environment";
  return {};
}

template <class Body>
std::string run_in_private_netns(Body body) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(pipefd[0]);
    std::string msg;
    if (::unshare(CLONE_NEWNET) != 0) {
      msg = std::string("SKIP: unshare(CLONE_NEWNET): ") + std::strerror(errno);
    } else {
      try {
        msg = body();
      } catch (const std::exception& e) {
        msg = std::string("exception: ") + e.what();
      }
    }
    if (!msg.empty() && ::write(pipefd[1], msg.data(), msg.size()) < 0) _exit(3);
    _exit(msg.empty() ? 0 : 1);
  }
  ::close(pipefd[1]);
  std::string msg;
  char buf[512];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) msg.append(buf, size_t(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return "child crashed (signal " + std::to_string(WTERMSIG(status)) + ")";
  if (WEXITSTATUS(status) != 0 && msg.empty()) return "child failed without a message";
  return msg;
}

}  // namespace utcp::test

#define UTCP_RUN_IN_NETNS(...)                                                               \
  do {                                                                                       \
    if (auto why = ::utcp::test::netns_tun_unavailable(); !why.empty()) GTEST_SKIP() << why; \
    const std::string netns_msg = ::utcp::test::run_in_private_netns(__VA_ARGS__);           \
    if (netns_msg.rfind("SKIP: ", 0) == 0) GTEST_SKIP() << netns_msg;                        \
    EXPECT_EQ(netns_msg, "");                                                                \
  } while (0)
