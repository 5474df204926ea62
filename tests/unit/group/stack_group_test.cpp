// SPDX-License-Identifier: BSD-2-Clause
// StackGroup: one Stack per thread. Without root: the thread runner (setup and teardown on
// each member's own thread, stop, errors). As root, in a private network namespace: a
// multi-queue TUN whose two stacks make active opens to the kernel and accept its
// connections, every byte checked, with a pause longer than the TUN driver's flow memory.
#include "utcp/stack_group.hpp"
#include "support/counters.hpp"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/netns_child.hpp"
#include "support/sockaddr.hpp"
#include "utcp/memory_link.hpp"
#include "utcp/tun.hpp"

namespace utcp {
namespace {

using namespace std::chrono_literals;

// Stacks on in-memory links (no descriptor: only posts and stop() wake their loops).
struct MemoryMembers {
  explicit MemoryMembers(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      links.push_back(std::make_unique<dev::MemoryLink>());
      StackConfig c;
      c.address = Ipv4Addr(10, 0, 0, static_cast<uint8_t>(i + 1));
      stacks.push_back(std::make_unique<Stack>(links.back()->a(), c));
      loops.push_back(std::make_unique<EventLoop>(*stacks.back(), links.back()->a()));
      members.push_back({stacks.back().get(), loops.back().get()});
    }
  }
  std::vector<std::unique_ptr<dev::MemoryLink>> links;
  std::vector<std::unique_ptr<Stack>> stacks;
  std::vector<std::unique_ptr<EventLoop>> loops;
  std::vector<StackGroup::Member> members;
};

TEST(StackGroup, SetupAndTeardownRunOnEachMembersOwnThread) {
  MemoryMembers m(3);
  StackGroup group(m.members);
  ASSERT_EQ(group.size(), 3u);
  EXPECT_EQ(group.device(0), nullptr);
  std::mutex mu;
  std::vector<std::thread::id> setup_on(3), teardown_on(3);
  std::atomic<int> started = 0;
  group.start(
      [&](size_t i, Stack& stack, EventLoop& loop) {
        EXPECT_EQ(&stack, m.stacks[i].get());
        EXPECT_EQ(&loop, m.loops[i].get());
        std::lock_guard lock(mu);
        setup_on[i] = std::this_thread::get_id();
        ++started;
      },
      [&](size_t i, Stack&, EventLoop&) {
        std::lock_guard lock(mu);
        teardown_on[i] = std::this_thread::get_id();
      });
  EXPECT_THROW(group.start({}), std::logic_error);
  for (int i = 0; i < 200 && started < 3; ++i) std::this_thread::sleep_for(5ms);
  // A posted task runs on the member's thread.
  std::atomic<bool> posted_ran = false;
  std::thread::id posted_on;
  group.loop(1).post([&] {
    posted_on = std::this_thread::get_id();
    posted_ran = true;
  });
  for (int i = 0; i < 200 && !posted_ran; ++i) std::this_thread::sleep_for(5ms);
  group.stop();
  group.join();
  EXPECT_TRUE(posted_ran);
  EXPECT_EQ(posted_on, setup_on[1]);
  std::set<std::thread::id> distinct(setup_on.begin(), setup_on.end());
  EXPECT_EQ(distinct.size(), 3u);
  EXPECT_EQ(distinct.count(std::this_thread::get_id()), 0u);
  EXPECT_EQ(teardown_on, setup_on);
}

TEST(StackGroup, AnExceptionStopsTheWholeGroupAndJoinRethrowsIt) {
  MemoryMembers m(2);
  StackGroup group(m.members);
  std::atomic<bool> torn_down = false;
  group.start(
      [](size_t i, Stack&, EventLoop&) {
        if (i == 1) throw std::runtime_error("member 1 cannot start");
      },
      [&](size_t i, Stack&, EventLoop&) {
        if (i == 0) torn_down = true;
      });
  try {
    group.join();  // returns only because member 1's failure stopped member 0
    ADD_FAILURE() << "join() did not rethrow";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "member 1 cannot start");
  }
  EXPECT_TRUE(torn_down);
}

TEST(StackGroup, BadMembersAreRejected) {
  EXPECT_THROW(StackGroup(std::vector<StackGroup::Member>{}), std::invalid_argument);
  MemoryMembers m(2);
  EXPECT_THROW(StackGroup({{m.stacks[0].get(), nullptr}}), std::invalid_argument);
  EXPECT_THROW(StackGroup({{m.stacks[0].get(), m.loops[1].get()}}), std::invalid_argument);
  EXPECT_THROW(StackGroup(dev::TunOptions{.device_path = "/nonexistent/tun"}, StackConfig{}, 0),
               std::invalid_argument);
}

TEST(StackGroup, BadQueueCountIsAClearError) {
  for (size_t queues : {size_t{0}, size_t{257}}) {
    try {
      dev::TunDevice::open_queues(
          dev::TunOptions{.device_path = "/nonexistent/tun", .queues = queues});
      ADD_FAILURE() << "no error for " << queues << " queues";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code().value(), EINVAL);
      EXPECT_NE(std::string(e.what()).find("bad TUN queue count"), std::string::npos) << e.what();
    }
  }
}

// --- against the kernel, in a private namespace ---

const Ipv4Addr kKernel(10, 77, 0, 1);
const Ipv4Addr kStack(10, 77, 0, 2);
constexpr uint16_t kKernelEchoPort = 5000;
constexpr uint16_t kStackEchoPort = 7;
constexpr size_t kConnsPerStack = 8;
constexpr size_t kBytes = 20000;

using test::sockaddr_of;

std::vector<uint8_t> pattern(size_t seed, size_t n) {
  std::vector<uint8_t> v(n);
  uint32_t x = static_cast<uint32_t>(seed * 2654435761u + 1);
  for (auto& b : v) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(x >> 24);
  }
  return v;
}

// A blocking kernel echo server: one thread per connection, until the process ends.
void kernel_echo_server(int listener) {
  for (;;) {
    const int c = ::accept(listener, nullptr, nullptr);
    if (c < 0) return;
    std::thread([c] {
      uint8_t buf[16384];
      for (ssize_t n; (n = ::read(c, buf, sizeof buf)) > 0;) {
        for (ssize_t off = 0; off < n;) {
          const ssize_t w = ::write(c, buf + off, static_cast<size_t>(n - off));
          if (w <= 0) return;
          off += w;
        }
      }
      ::close(c);
    }).detach();
  }
}

// What one member does on its own thread: echoes what kernel clients send to port 7, and
// runs kConnsPerStack active opens to the kernel's echo server, one round of kBytes each per
// start_round(). Touched only on its thread; the main thread reads it after join().
struct Member {
  struct Client {
    SocketId s = kNoSocket;
    std::vector<uint8_t> expect;  // everything sent so far
    size_t sent = 0;
    std::vector<uint8_t> got;
  };
  size_t index = 0;
  Stack* stack = nullptr;
  EventLoop* loop = nullptr;
  SocketId listener = kNoSocket;
  std::vector<SocketId> served;
  std::vector<Client> clients;
  size_t accepted = 0;
  std::string error;
  std::atomic<int> rounds_done = 0;
  int round = 0;

  void setup(size_t i, Stack& st, EventLoop& lp) {
    index = i;
    stack = &st;
    loop = &lp;
    std::error_code ec;
    listener = st.listen(kStackEchoPort, ec);
    if (ec) throw std::system_error(ec, "listen");
    for (size_t k = 0; k < kConnsPerStack; ++k) {
      Client c;
      c.s = st.connect(kKernel, kKernelEchoPort, ec);
      if (ec) throw std::system_error(ec, "connect");
      clients.push_back(std::move(c));
    }
    lp.add_after_process([this] { pump(); });
    start_round();
  }

  void start_round() {
    ++round;
    for (size_t k = 0; k < clients.size(); ++k) {
      const auto more = pattern(index * 1000 + k * 10 + static_cast<size_t>(round), kBytes);
      clients[k].expect.insert(clients[k].expect.end(), more.begin(), more.end());
    }
    pump();
  }

  void pump() {
    std::error_code ec;
    uint8_t buf[16384];
    bool moved = false;
    for (SocketId s; (s = stack->accept(listener, ec)) != kNoSocket;) {
      served.push_back(s);
      ++accepted;
    }
    for (SocketId s : served) {  // echo: small transfers, so what is read fits the send buffer
      for (size_t n; (n = stack->recv(s, buf, ec)) > 0 && !ec;) {
        stack->send(s, std::span<const uint8_t>(buf, n), ec);
        moved = true;
      }
    }
    bool all_done = !clients.empty();
    for (Client& c : clients) {
      if (stack->readiness(c.s) & ready::kError) {
        if (error.empty()) error = "client: " + stack->error(c.s).message();
        continue;
      }
      if (c.sent < c.expect.size() && (stack->readiness(c.s) & ready::kWritable)) {
        const size_t n = stack->send(c.s, std::span(c.expect).subspan(c.sent), ec);
        c.sent += n;
        moved = moved || n > 0;
      }
      for (size_t n; (n = stack->recv(c.s, buf, ec)) > 0 && !ec;) {
        c.got.insert(c.got.end(), buf, buf + n);
        moved = true;
      }
      all_done = all_done && c.got.size() == c.expect.size();
    }
    if (all_done && rounds_done < round) ++rounds_done;
    if (moved) loop->request_process();
  }
};

// Kernel clients: connect to the stacks' echo port, send kBytes, read the echo back.
std::string kernel_clients(size_t n) {
  std::vector<std::string> errors(n);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([i, &errors] {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      timeval tv{10, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      const sockaddr_in to = sockaddr_of(kStack, kStackEchoPort);
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
        errors[i] = std::string("connect: ") + std::strerror(errno);
        ::close(fd);
        return;
      }
      const auto data = pattern(77 + i, kBytes);
      if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
        errors[i] = "short write";
      }
      std::vector<uint8_t> got(kBytes);
      size_t have = 0;
      for (ssize_t r;
           have < got.size() && (r = ::read(fd, got.data() + have, got.size() - have)) > 0;) {
        have += static_cast<size_t>(r);
      }
      if (have != kBytes || got != data)
        errors[i] = "echo differs (" + std::to_string(have) + " bytes)";
      ::close(fd);
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < n; ++i) {
    if (!errors[i].empty()) return "kernel client " + std::to_string(i) + ": " + errors[i];
  }
  return "";
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TEST(StackGroupOverTun, TwoQueuesActiveAndPassiveOpensSurviveAnIdlePause) {
  UTCP_RUN_IN_NETNS([]() -> std::string {
    dev::TunOptions tun{.name = "utcp0", .kernel_address = kKernel};
    StackConfig config;
    config.address = kStack;
    Member members[2];  // outlives the group, whose threads use it
    StackGroup group(tun, config, 2);
    if (group.steering() != Steering::kPorts) return "SKIP: the kernel refused the eBPF steering";
    // One multi-queue device, two descriptors.
    for (size_t i = 0; i < 2; ++i) {
      ifreq ifr{};
      if (::ioctl(group.device(i)->fd(), TUNGETIFF, &ifr) != 0) return "TUNGETIFF failed";
      if (!(ifr.ifr_flags & IFF_MULTI_QUEUE))
        return "queue " + std::to_string(i) + " not multi-queue";
      if (group.device(i)->name() != "utcp0" || group.device(i)->queue() != i)
        return "queue naming";
      // Offload as the tools have it: each member's Stack took TSO and the TSO checksum work
      // from its queue's capabilities.
      const bool offload = group.device(i)->offload_active();
      const tcp::Config& c = group.stack(i).config().tcp;
      if ((c.tso_max_bytes > 0) != offload || (c.tso_checksum_offload_above > 0) != offload)
        return "queue " + std::to_string(i) + ": TSO does not follow the device's offload";
    }

    const int ls = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in at = sockaddr_of(kKernel, kKernelEchoPort);
    if (::bind(ls, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 ||
        ::listen(ls, 64) != 0) {
      return std::string("kernel listener: ") + std::strerror(errno);
    }
    std::thread(kernel_echo_server, ls).detach();

    group.start([&](size_t i, Stack& st, EventLoop& lp) { members[i].setup(i, st, lp); });
    auto rounds = [&](int n) {
      return [&, n] { return members[0].rounds_done >= n && members[1].rounds_done >= n; };
    };
    if (!wait_for(rounds(1), 20s)) {
      group.stop();
      group.join();
      std::string why = "round 1 of the active opens did not finish:";
      for (size_t i = 0; i < 2; ++i) {
        why += " member " + std::to_string(i) + " [" + members[i].error + "]";
        for (const auto& c : members[i].clients) {
          why += " " + std::to_string(group.stack(i).local_endpoint(c.s).port) + ":" +
                 std::string(tcp::to_string(group.stack(i).state(c.s))) + ":" +
                 std::to_string(c.sent) + "/" + std::to_string(c.got.size());
        }
        for (const auto& [n, v] : group.stack(i).counters()) {
          if (v) why += " " + std::string(n) + "=" + std::to_string(v);
        }
      }
      return why;
    }
    if (auto e = kernel_clients(16); !e.empty()) return e;
    // Quiet for longer than the TUN driver remembers a flow (3 s, swept every 3 s).
    std::this_thread::sleep_for(7s);
    for (size_t i = 0; i < 2; ++i) group.loop(i).post([&, i] { members[i].start_round(); });
    const bool second = wait_for(rounds(2), 20s);
    if (auto e = kernel_clients(16); !e.empty()) return "after the pause: " + e;
    group.stop();
    group.join();
    if (!second)
      return "round 2 after the pause did not finish: " + members[0].error + members[1].error;

    for (size_t i = 0; i < 2; ++i) {
      const Member& m = members[i];
      const Stack& st = group.stack(i);
      if (!m.error.empty()) return "member " + std::to_string(i) + ": " + m.error;
      const stack::PortRange share = st.config().ephemeral_ports;
      for (const auto& c : m.clients) {
        if (c.got != c.expect) return "member " + std::to_string(i) + ": echo differs";
        const uint16_t port = st.local_endpoint(c.s).port;
        if (port < share.first || port > share.last) return "port outside the member's share";
      }
      // In this forked child a gtest failure would be lost: an unknown name fails by message.
      const std::optional<uint64_t> opens = test::find_counter(st, "tcp.active-opens");
      const std::optional<uint64_t> foreign = test::find_counter(st, "tcp.rst-for-unmatched");
      if (!opens || !foreign) return "a counter this test reads is missing";
      if (*opens != kConnsPerStack) return "active opens miscounted";
      if (*foreign != 0) {
        return "member " + std::to_string(i) + " got segments of another member's connection";
      }
      if (m.accepted == 0) return "member " + std::to_string(i) + " accepted no kernel connection";
    }
    if (members[0].accepted + members[1].accepted != 32)
      return "not all 32 kernel connections accepted";
    if (group.stack(0).config().ephemeral_ports.last >=
        group.stack(1).config().ephemeral_ports.first) {
      return "the members' port shares overlap";
    }
    return "";
  });
}

}  // namespace
}  // namespace utcp
