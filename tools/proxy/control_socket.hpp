// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp-proxy's --control PATH: a unix stream socket; every client that connects gets the
// current statistics (SessionLog::to_json(), one JSON document and a newline) and is then
// closed, e.g. `socat - UNIX-CONNECT:PATH | jq`. Written without blocking the loop: what a slow
// client does not take yet waits for EPOLLOUT (at most kMaxClients clients at once).
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "utcp/event_loop.hpp"

namespace utcp::proxy {

class ControlSocket {
 public:
  static constexpr size_t kMaxClients = 16;

  // Binds and listens at `path` (an old socket file there is replaced); throws
  // std::runtime_error with a one-line message. `body` makes the answer.
  ControlSocket(EventLoop& loop, std::string path, std::function<std::string()> body);
  ~ControlSocket();  // closes every client and removes the socket file
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

 private:
  void accept_clients();
  void write_some(int fd);
  void drop(int fd);

  EventLoop& loop_;
  std::string path_;
  std::function<std::string()> body_;
  int listen_fd_ = -1;
  struct Pending {
    std::string text;
    size_t sent = 0;
  };
  std::unordered_map<int, Pending> clients_;
};

}  // namespace utcp::proxy
