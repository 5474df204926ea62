// SPDX-License-Identifier: BSD-2-Clause
#include "control_socket.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace utcp::proxy {

ControlSocket::ControlSocket(EventLoop& loop, std::string path, std::function<std::string()> body)
    : loop_(loop), path_(std::move(path)), body_(std::move(body)) {
  sockaddr_un addr{};
  if (path_.empty() || path_.size() >= sizeof addr.sun_path) {
    throw std::runtime_error("--control: the path must be 1 to " +
                             std::to_string(sizeof addr.sun_path - 1) + " bytes");
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("--control: ") + std::strerror(errno));
  ::unlink(path_.c_str());  // a socket left by an earlier run that was killed
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 8) != 0) {
    const int err = errno;
    ::close(listen_fd_);
    throw std::runtime_error("--control " + path_ + ": " + std::strerror(err));
  }
  loop_.add_fd(listen_fd_, EPOLLIN, [this](uint32_t) { accept_clients(); });
}

ControlSocket::~ControlSocket() {
  std::vector<int> fds;
  for (const auto& [fd, p] : clients_) fds.push_back(fd);
  for (const int fd : fds) drop(fd);
  loop_.remove_fd(listen_fd_);
  ::close(listen_fd_);
  ::unlink(path_.c_str());
}

void ControlSocket::accept_clients() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an error the next connection will not have
    if (clients_.size() >= kMaxClients) {
      ::close(fd);
      continue;
    }
    clients_[fd] = Pending{body_() + "\n", 0};
    loop_.add_fd(fd, EPOLLOUT, [this, fd](uint32_t events) {
      if (events & (EPOLLERR | EPOLLHUP)) return drop(fd);
      write_some(fd);
    });
    write_some(fd);
  }
}

void ControlSocket::write_some(int fd) {
  const auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  Pending& p = it->second;
  while (p.sent < p.text.size()) {
    const ssize_t n = ::send(fd, p.text.data() + p.sent, p.text.size() - p.sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // EPOLLOUT brings us back
    if (n <= 0) return drop(fd);
    p.sent += static_cast<size_t>(n);
  }
  drop(fd);
}

void ControlSocket::drop(int fd) {
  if (clients_.erase(fd) == 0) return;
  loop_.remove_fd(fd);
  ::close(fd);
}

}  // namespace utcp::proxy
