// SPDX-License-Identifier: BSD-2-Clause
// SOCKS5 UDP ASSOCIATE control connection: see socks5_association.hpp.
#include "socks5_association.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace utcp::proxy {

Socks5Association::Socks5Association(int fd, const Endpoint& server, const Endpoint& udp_source,
                                     std::optional<Credentials> credentials)
    : fd_(fd),
      server_(server),
      handshake_(Socks5Handshake::Command::kUdpAssociate,
                 Target{udp_source.addr, "", udp_source.port}, std::move(credentials)) {
  if (handshake_.state() == HandshakeState::kFailed) fail(Status::kFailed, handshake_.error());
}

Socks5Association::~Socks5Association() {
  if (fd_ >= 0) ::close(fd_);
}

uint32_t Socks5Association::events() const {
  switch (status_) {
    case Status::kConnecting:
      return EPOLLOUT;
    case Status::kHandshaking:
      return EPOLLIN | (handshake_.output().empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
    case Status::kReady:
      return EPOLLIN | EPOLLRDHUP;
    default:
      return 0;
  }
}

void Socks5Association::fail(Status status, std::string why) {
  status_ = status;
  error_ = std::move(why);
}

Endpoint Socks5Association::relay() const {
  Endpoint bound = handshake_.bound();
  if (bound.addr.is_unspecified()) bound.addr = server_.addr;
  return bound;
}

void Socks5Association::exchange() {
  while (!handshake_.output().empty()) {
    const auto out = handshake_.output();
    const ssize_t n = ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return fail(Status::kFailed, std::string("socks5 control: ") + std::strerror(errno));
    }
    handshake_.consume_output(static_cast<size_t>(n));
  }
  uint8_t buf[512];
  while (handshake_.state() == HandshakeState::kInProgress) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) return fail(Status::kFailed, "socks5 server closed during the handshake");
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return fail(Status::kFailed, std::string("socks5 control: ") + std::strerror(errno));
    }
    // Bytes past the reply would be the server's; a UDP ASSOCIATE sends none (RFC 1928 §7).
    handshake_.input(std::span(buf, static_cast<size_t>(n)));
    if (!handshake_.output().empty()) return exchange();  // the next message (auth, request)
  }
  if (handshake_.state() == HandshakeState::kFailed) {
    return fail(Status::kFailed, handshake_.error());
  }
  if (handshake_.state() == HandshakeState::kDone) status_ = Status::kReady;
}

Socks5Association::Status Socks5Association::on_events(uint32_t events) {
  if (status_ == Status::kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      fail(Status::kFailed, std::string("socks5 connect: ") + std::strerror(err));
      return status_;
    }
    if (!(events & (EPOLLOUT | EPOLLIN | EPOLLHUP | EPOLLERR))) return status_;
    status_ = Status::kHandshaking;
  }
  if (status_ == Status::kHandshaking) {
    exchange();
    return status_;
  }
  if (status_ == Status::kReady) {
    // RFC 1928 §7: the association ends with its TCP connection. Nothing else comes on it.
    uint8_t buf[256];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) continue;
      if (n == 0) {
        fail(Status::kClosed, "socks5 server closed the association");
      } else if (errno != EAGAIN && errno != EINTR) {
        fail(Status::kClosed, std::string("socks5 control: ") + std::strerror(errno));
      }
      break;
    }
  }
  return status_;
}

}  // namespace utcp::proxy
