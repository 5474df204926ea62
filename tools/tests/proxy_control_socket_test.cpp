// SPDX-License-Identifier: BSD-2-Clause
// ControlSocket (--control PATH): every client gets the current answer and is closed; an old
// socket file at the path is replaced; the file is removed on destruction; more clients than
// kMaxClients at once are turned away without blocking the loop; a path too long is an error.
#include "control_socket.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "utcp/event_loop.hpp"
#include "utcp/memory_link.hpp"
#include "utcp/stack.hpp"

namespace utcp::proxy {
namespace {

using namespace std::chrono_literals;

int connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string read_to_eof(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  return out;
}

class ControlSocketTest : public ::testing::Test {
 protected:
  ControlSocketTest()
      : stack_(link_.a(), StackConfig{}),
        loop_(stack_, link_.a()),
        path_("/tmp/utcp-control-test-" + std::to_string(::getpid()) + ".sock") {}
  ~ControlSocketTest() override { ::unlink(path_.c_str()); }

  // Runs the loop while `client` runs on a thread; returns what it returned.
  std::string with_client(const std::function<std::string()>& client) {
    std::string result;
    std::atomic<bool> done{false};
    std::thread t([&] {
      result = client();
      done = true;
      loop_.post([] {});  // wakes the loop to see it
    });
    loop_.run_until([&] { return done.load(); }, EventLoop::clock_now() + Duration(3'000'000));
    t.join();
    return result;
  }

  dev::MemoryLink link_;
  Stack stack_;
  EventLoop loop_;
  std::string path_;
};

TEST_F(ControlSocketTest, EachClientGetsTheAnswerAndIsClosed) {
  int calls = 0;
  {
    // A stale socket file from a killed run is replaced.
    std::ofstream(path_) << "stale";
    ControlSocket control(loop_, path_, [&] { return "{\"n\":" + std::to_string(++calls) + "}"; });
    for (int i = 1; i <= 3; ++i) {
      const std::string got = with_client([&] {
        const int fd = connect_unix(path_);
        if (fd < 0) return std::string("connect failed");
        std::string s = read_to_eof(fd);
        ::close(fd);
        return s;
      });
      EXPECT_EQ(got, "{\"n\":" + std::to_string(i) + "}\n");
    }
    // A large answer arrives whole though the socket buffer is smaller (EPOLLOUT resumes it).
    const std::string big(1 << 20, 'x');
    ControlSocket other(loop_, path_ + "2", [&] { return big; });
    const std::string got = with_client([&] {
      const int fd = connect_unix(path_ + "2");
      std::this_thread::sleep_for(100ms);  // let the server fill the buffer first
      std::string s = read_to_eof(fd);
      ::close(fd);
      return s;
    });
    EXPECT_EQ(got.size(), big.size() + 1);
  }
  EXPECT_NE(::access(path_.c_str(), F_OK), 0);  // removed on destruction
  EXPECT_NE(::access((path_ + "2").c_str(), F_OK), 0);
}

TEST_F(ControlSocketTest, TooManyClientsAtOnceAreTurnedAway) {
  const std::string big(1 << 20, 'y');  // more than a unix socket buffer: clients stay pending
  ControlSocket control(loop_, path_, [&] { return big; });
  std::vector<int> fds;
  const std::string result = with_client([&] {
    for (size_t i = 0; i < ControlSocket::kMaxClients + 4; ++i) fds.push_back(connect_unix(path_));
    std::this_thread::sleep_for(300ms);
    // The last ones were closed at once: EOF without a byte.
    size_t turned_away = 0;
    for (size_t i = ControlSocket::kMaxClients; i < fds.size(); ++i) {
      char c;
      if (::recv(fds[i], &c, 1, MSG_DONTWAIT) == 0) ++turned_away;
    }
    return std::to_string(turned_away);
  });
  EXPECT_EQ(result, "4");
  for (const int fd : fds) ::close(fd);
}

TEST_F(ControlSocketTest, PathTooLongIsAnError) {
  EXPECT_THROW(ControlSocket(loop_, "/tmp/" + std::string(200, 'a'), [] { return ""; }),
               std::runtime_error);
  EXPECT_THROW(ControlSocket(loop_, "/nonexistent-dir-utcp/x.sock", [] { return ""; }),
               std::runtime_error);
}

}  // namespace
}  // namespace utcp::proxy
