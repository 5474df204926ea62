// SPDX-License-Identifier: BSD-2-Clause
// A custom packet device: utcp::dev::Device over one end of a UNIX SOCK_SEQPACKET socketpair,
// where every message is one IPv4 packet. Anything that moves whole packets can carry the
// stack the same way (a UDP tunnel, a pcap replay, a hardware queue): implement mtu(),
// receive() and transmit(), and fd() if a descriptor says when packets are waiting, so an
// EventLoop can sleep on it.
//
// The program joins two stacks through the pair, one per thread, each driven by an EventLoop
// and the blocking facade (utcp::Interface), and sends a message through a TCP connection.
//
//   ./example_socketpair_device            exit status 0 when the message came through
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "utcp/blocking.hpp"
#include "utcp/device.hpp"

namespace {

class SocketPairDevice final : public utcp::dev::Device {
 public:
  // Takes ownership of `fd`, one end of a SOCK_SEQPACKET socketpair.
  explicit SocketPairDevice(int fd) : fd_(fd) {}
  ~SocketPairDevice() override { ::close(fd_); }
  SocketPairDevice(const SocketPairDevice&) = delete;
  SocketPairDevice& operator=(const SocketPairDevice&) = delete;

  // Readable when the other end has sent a packet: the EventLoop's epoll watches it.
  int fd() const override { return fd_; }
  size_t mtu() const override { return 1500; }

  // Never blocks: fills as many slots as there are packets waiting.
  size_t receive(std::span<utcp::dev::PacketSlot> slots, utcp::Instant) override {
    size_t filled = 0;
    while (filled < slots.size()) {
      utcp::dev::PacketSlot& slot = slots[filled];
      const ssize_t n = ::recv(fd_, slot.buf.data(), slot.buf.size(), MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;  // EAGAIN: nothing more now (other errors: treat as nothing, too)
      }
      if (static_cast<size_t>(n) > slot.buf.size()) continue;  // too big: drop, never truncate
      slot.len = static_cast<size_t>(n);
      ++filled;
    }
    return filled;
  }

  // Sends each packet as one message; stops at the first the socket cannot take now, and
  // the stack retries the rest later.
  size_t transmit(std::span<const std::span<const uint8_t>> packets, utcp::Instant) override {
    size_t sent = 0;
    for (const auto& packet : packets) {
      ssize_t n;
      do {
        n = ::send(fd_, packet.data(), packet.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      } while (n < 0 && errno == EINTR);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      ++sent;  // sent, or refused for good (as a lossy wire would lose it)
    }
    return sent;
  }

 private:
  int fd_;
};

utcp::InterfaceOptions options_for(utcp::Ipv4Addr address) {
  utcp::InterfaceOptions options;
  options.stack.address = address;
  return options;
}

}  // namespace

int main() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    std::perror("socketpair");
    return 1;
  }
  const utcp::Ipv4Addr server_addr(192, 168, 7, 1);
  const std::string message = "a TCP stream over a socketpair";
  std::string received;
  try {
    utcp::Interface server(std::make_unique<SocketPairDevice>(fds[0]), options_for(server_addr));
    utcp::Interface client(std::make_unique<SocketPairDevice>(fds[1]),
                           options_for(utcp::Ipv4Addr(192, 168, 7, 2)));
    utcp::TcpListener listener = server.listen(5000);
    std::thread reader([&] {
      std::error_code ec;  // the error_code forms: nothing may throw out of a thread
      utcp::TcpStream in = listener.accept(ec);
      std::vector<uint8_t> buf(1024);
      for (size_t n; (n = in.read(buf, ec)) > 0;) received.append(buf.begin(), buf.begin() + n);
    });
    utcp::TcpStream out = client.connect(server_addr, 5000, std::chrono::seconds(5));
    out.write_all(std::span(reinterpret_cast<const uint8_t*>(message.data()), message.size()));
    out.shutdown();
    reader.join();
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "socketpair_device: %s\n", e.what());
    return 1;
  }
  std::printf("received: %s\n", received.c_str());
  return received == message ? 0 : 1;
}
