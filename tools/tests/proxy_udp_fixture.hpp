// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The UdpRelay under test, without root, on the stacks of proxy_relay_stacks.hpp (UDP flows
// on): the relay's EventLoop also drives the kernel sockets on loopback (127.0.0.1) that stand
// for upstream targets and a SOCKS5 server.
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proxy_relay_stacks.hpp"
#include "socket_address.hpp"
#include "support/counters.hpp"
#include "udp_relay.hpp"

namespace utcp::proxy::test {

// Keeps every session as the program's log would.
class RecordingSink : public SessionSink {
 public:
  uint64_t open(SessionRecord r) override {
    r.id = next_++;
    records_[r.id] = r;
    return r.id;
  }
  SessionRecord* find(uint64_t id) override {
    auto it = records_.find(id);
    return it == records_.end() || !it->second.end.empty() ? nullptr : &it->second;
  }
  void close(uint64_t id, std::string why) override {
    auto it = records_.find(id);
    if (it != records_.end() && it->second.end.empty()) it->second.end = std::move(why);
  }
  const std::map<uint64_t, SessionRecord>& records() const { return records_; }
  // The one record, which the test expects to be the only one.
  const SessionRecord& only() const {
    EXPECT_EQ(records_.size(), 1u);
    return records_.begin()->second;
  }

 private:
  uint64_t next_ = 1;
  std::map<uint64_t, SessionRecord> records_;
};

// One of this host's own IPv4 addresses that is not loopback (127/8), if it has one: a target
// the client Stack accepts replies from (RFC 1122 §3.2.1.3 makes it drop a loopback source),
// still reached without leaving the host.
inline std::optional<IpAddr> local_unicast_v4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<IpAddr> found;
  for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
    sockaddr_storage ss{};
    std::memcpy(&ss, i->ifa_addr, sizeof(sockaddr_in));
    found = from_sockaddr(ss).addr;
  }
  ::freeifaddrs(list);
  return found;
}

// A kernel UDP socket (on 127.0.0.1 unless told) answering each datagram with "echo:" + it,
// watched by `loop`.
class LoopbackEcho {
 public:
  explicit LoopbackEcho(EventLoop& loop, IpAddr addr = Ipv4Addr(127, 0, 0, 1)) : loop_(loop) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(Endpoint{addr, 0}, ss);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len), 0);
    len = sizeof ss;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    endpoint_ = from_sockaddr(ss);
    loop_.add_fd(fd_, EPOLLIN, [this](uint32_t) {
      uint8_t buf[2048];
      sockaddr_storage from;
      socklen_t flen = sizeof from;
      const ssize_t n =
          ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
      if (n < 0) return;
      received_.emplace_back(buf, buf + n);
      senders_.push_back(from_sockaddr(from));
      Bytes reply = bytes("echo:");
      reply.insert(reply.end(), buf, buf + n);
      ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
    });
  }
  ~LoopbackEcho() {
    loop_.remove_fd(fd_);
    ::close(fd_);
  }
  const Endpoint& endpoint() const { return endpoint_; }
  const std::vector<Bytes>& received() const { return received_; }
  const std::vector<Endpoint>& senders() const { return senders_; }

 private:
  EventLoop& loop_;
  int fd_ = -1;
  Endpoint endpoint_;
  std::vector<Bytes> received_;
  std::vector<Endpoint> senders_;
};

class RelayFixture : public RelayStacksFixture {
 protected:
  RelayFixture() : RelayStacksFixture(3s) {}

  // Builds the two stacks, the loop and the relay for `config` (kept in the fixture);
  // `adjust` may change the relay Stack's config first.
  void start(const ProxyConfig& config, const std::function<void(StackConfig&)>& adjust = nullptr) {
    config_ = config;
    start_stacks([&](StackConfig& rc) {
      rc.forward_udp = true;
      if (adjust) adjust(rc);
    });
    relay_.emplace(
        *relay_stack_, *loop_, config_,
        [this](int fd, std::string& error) {
          setup_fds_.push_back(fd);
          if (setup_fails_) error = "refused by the test";
          return !setup_fails_;
        },
        sink_);
    // What main does: readiness through the relay, flows handed over after each process().
    relay_stack_->set_readiness_callback(
        [this](SocketId s, uint32_t r) { relay_->on_readiness(s, r); });
    loop_->add_after_process([this] {
      while (auto flow = relay_stack_->next_udp_flow()) relay_->on_flow(*flow);
      relay_->after_process();
    });
  }

  // Sends `payload` from client socket `s` to its connected peer and waits for one reply.
  std::optional<Bytes> round_trip(SocketId s, const Bytes& payload, Endpoint* from = nullptr,
                                  std::chrono::milliseconds timeout = 3s) {
    std::error_code ec;
    client_->send_to(s, payload, nullptr, ec);
    EXPECT_FALSE(ec) << ec.message();
    std::optional<Bytes> reply;
    run_until(
        [&] {
          uint8_t buf[2048];
          std::error_code rec;
          const size_t n = client_->recv_from(s, buf, rec, from);
          if (!rec) reply = Bytes(buf, buf + n);
          return reply.has_value();
        },
        timeout);
    return reply;
  }

  // Where the client sends so that the relay's upstream is `echo` on loopback: a port-53 flow
  // to a documentation address, redirected by --dns-server (the replies then come from that
  // address, which the client Stack accepts, unlike 127.0.0.1).
  Endpoint via_dns_server(const LoopbackEcho& echo) {
    config_.dns_upstream = echo.endpoint();
    return Endpoint{Ipv4Addr(198, 51, 100, 53), 53};
  }

  SocketId client_socket(const Endpoint& to) {
    std::error_code ec;
    const SocketId s = client_->udp_connect(to, ec);
    EXPECT_FALSE(ec) << ec.message();
    return s;
  }

  // The relay's counter `name` (an unknown name fails the test).
  uint64_t counter(std::string_view name) const { return ::utcp::test::counter(*relay_, name); }

  RecordingSink sink_;
  bool setup_fails_ = false;
  std::optional<UdpRelay> relay_;  // declared last: destroyed first, while loop and stack live
};

}  // namespace utcp::proxy::test
