// SPDX-License-Identifier: BSD-2-Clause
// The blocking facade's UDP sockets (utcp/blocking.hpp): each call runs the Stack's UDP call
// on the loop thread (whose process() after the call sends what send_to queued); recv_from
// waits on the socket's readiness between attempts.
#include "stack/interface_core.hpp"

namespace utcp {

using detail::canceled_error;
using detail::InterfaceCore;
using detail::not_connected_error;

namespace {

void throw_if(const std::error_code& ec, const char* what) {
  if (ec) throw std::system_error(ec, what);
}

}  // namespace

// ---- Interface ----

UdpSocket Interface::udp_bind(const Endpoint& local) {
  std::error_code ec;
  UdpSocket s = udp_bind(local, ec);
  throw_if(ec, "utcp udp_bind");
  return s;
}

UdpSocket Interface::udp_bind(const Endpoint& local, std::error_code& ec) {
  const SocketId id = core_->open_socket(
      core_->udp_sockets, ec, [local](Stack& st, auto& e) { return st.udp_bind(local, e); });
  return id == kNoSocket ? UdpSocket() : UdpSocket(core_, id);
}

UdpSocket Interface::udp_connect(const Endpoint& peer) {
  std::error_code ec;
  UdpSocket s = udp_connect(peer, ec);
  throw_if(ec, "utcp udp_connect");
  return s;
}

UdpSocket Interface::udp_connect(const Endpoint& peer, std::error_code& ec) {
  const SocketId id = core_->open_socket(
      core_->udp_sockets, ec, [peer](Stack& st, auto& e) { return st.udp_connect(peer, e); });
  return id == kNoSocket ? UdpSocket() : UdpSocket(core_, id);
}

// ---- UdpSocket ----

UdpSocket::UdpSocket(std::shared_ptr<InterfaceCore> core, SocketId id)
    : core_(std::move(core)), id_(id) {}

UdpSocket::~UdpSocket() {
  release();
}

UdpSocket::UdpSocket(UdpSocket&& other) noexcept
    : core_(std::move(other.core_)), id_(other.id_), read_timeout_(other.read_timeout_) {}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    release();
    core_ = std::move(other.core_);
    id_ = other.id_;
    read_timeout_ = other.read_timeout_;
  }
  return *this;
}

void UdpSocket::release() {
  if (!core_) return;
  const SocketId id = id_;
  InterfaceCore* c = core_.get();
  c->post([c, id] {
    if (c->udp_sockets.erase(id) != 0) c->stack->close(id);
  });
  c->forget(id);
  core_.reset();
}

void UdpSocket::close() {
  release();
}

size_t UdpSocket::recv_from(std::span<uint8_t> out, Endpoint* from, DatagramInfo* info) {
  std::error_code ec;
  const size_t n = recv_from(out, ec, from, info);
  throw_if(ec, "utcp recv_from");
  return n;
}

size_t UdpSocket::recv_from(std::span<uint8_t> out, std::error_code& ec, Endpoint* from,
                            DatagramInfo* info) {
  if (!core_) {
    ec = not_connected_error();
    return 0;
  }
  ec.clear();
  const SocketId id = id_;
  const Instant deadline =
      read_timeout_.count() > 0 ? EventLoop::clock_now() + read_timeout_ : kNever;
  struct Got {
    size_t n = 0;
    Endpoint from;
    DatagramInfo info;
  };
  const Got got = core_->blocking<Got>(
      id, ec,
      [id, out](Stack& st, std::error_code& e) {
        Got g;
        g.n = st.recv_from(id, out, e, &g.from, &g.info);
        return g;
      },
      deadline);
  if (ec) return 0;
  if (from) *from = got.from;
  if (info) *info = got.info;
  return got.n;
}

size_t UdpSocket::send_to(std::span<const uint8_t> data, const Endpoint& to) {
  std::error_code ec;
  const size_t n = send_to(data, to, ec);
  throw_if(ec, "utcp send_to");
  return n;
}

size_t UdpSocket::send_to(std::span<const uint8_t> data, const Endpoint& to, std::error_code& ec) {
  if (!core_) {
    ec = not_connected_error();
    return 0;
  }
  const SocketId id = id_;
  auto r = core_->call([id, data, to](Stack& st) {
    std::error_code e;
    const size_t n = st.send_to(id, data, &to, e);
    return std::make_pair(n, e);
  });
  if (!r) {
    ec = canceled_error();
    return 0;
  }
  ec = r->second;
  return r->first;
}

size_t UdpSocket::send(std::span<const uint8_t> data) {
  std::error_code ec;
  const size_t n = send(data, ec);
  throw_if(ec, "utcp send");
  return n;
}

size_t UdpSocket::send(std::span<const uint8_t> data, std::error_code& ec) {
  if (!core_) {
    ec = not_connected_error();
    return 0;
  }
  const SocketId id = id_;
  auto r = core_->call([id, data](Stack& st) {
    std::error_code e;
    const size_t n = st.send_to(id, data, nullptr, e);
    return std::make_pair(n, e);
  });
  if (!r) {
    ec = canceled_error();
    return 0;
  }
  ec = r->second;
  return r->first;
}

void UdpSocket::connect(const Endpoint& peer, std::error_code& ec) {
  if (!core_) {
    ec = not_connected_error();
    return;
  }
  const SocketId id = id_;
  auto r = core_->call([id, peer](Stack& st) {
    std::error_code e;
    st.udp_connect(id, peer, e);
    return e;
  });
  ec = r ? *r : canceled_error();
}

Endpoint UdpSocket::local_endpoint() const {
  if (!core_) return {};
  const SocketId id = id_;
  auto r = core_->call([id](Stack& st) { return st.udp_local_endpoint(id); });
  return r ? *r : Endpoint{};
}

Endpoint UdpSocket::peer_endpoint() const {
  if (!core_) return {};
  const SocketId id = id_;
  auto r = core_->call([id](Stack& st) { return st.udp_remote_endpoint(id); });
  return r ? *r : Endpoint{};
}

}  // namespace utcp
