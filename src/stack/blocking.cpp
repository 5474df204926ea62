// SPDX-License-Identifier: BSD-2-Clause
#include "utcp/blocking.hpp"

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "stack/interface_core.hpp"
#include "utcp/event_loop.hpp"

namespace utcp {

using detail::canceled_error;
using detail::not_connected_error;

using detail::InterfaceCore;

namespace {

void throw_if(const std::error_code& ec, const char* what) {
  if (ec) throw std::system_error(ec, what);
}

bool all_zero(const std::array<uint8_t, 16>& a) {
  return std::all_of(a.begin(), a.end(), [](uint8_t b) { return b == 0; });
}

std::shared_ptr<InterfaceCore> start_core(dev::Device& device, std::unique_ptr<dev::Device> owned,
                                          InterfaceOptions options) {
  auto core = std::make_shared<InterfaceCore>();
  core->owned_device = std::move(owned);
  core->close_timeout = options.close_timeout;
  if (all_zero(options.stack.secret)) options.stack.secret = StackConfig::random_secret();
  core->stack = std::make_unique<Stack>(device, options.stack);
  core->loop = std::make_unique<EventLoop>(*core->stack, device);
  InterfaceCore* raw = core.get();
  core->stack->set_readiness_callback([raw](SocketId s, uint32_t) { raw->on_readiness(s); });
  core->thread = std::thread([raw] {
    try {
      raw->loop->run();
      raw->shutdown_connections();
    } catch (...) {
      // A failing device or loop ends the interface: callers see operation_canceled.
    }
    {
      std::lock_guard lock(raw->mu);
      raw->closed = true;
    }
    raw->cv.notify_all();
  });
  return core;
}

}  // namespace

// ---- Interface ----

Interface::Interface(dev::Device& device, InterfaceOptions options)
    : core_(start_core(device, nullptr, std::move(options))) {}

Interface::Interface(std::unique_ptr<dev::Device> device, InterfaceOptions options) {
  dev::Device& d = *device;
  core_ = start_core(d, std::move(device), std::move(options));
}

Interface::~Interface() {
  {
    std::lock_guard lock(core_->mu);
    core_->closed = true;
  }
  core_->cv.notify_all();
  core_->loop->stop();
  core_->thread.join();
  // Destroying the loop breaks the promises of tasks that never ran: their callers return.
  core_->loop.reset();
  core_->stack.reset();
  core_->owned_device.reset();
}

TcpListener Interface::listen(uint16_t port) {
  std::error_code ec;
  TcpListener l = listen(port, ec);
  throw_if(ec, "utcp listen");
  return l;
}

TcpListener Interface::listen(uint16_t port, std::error_code& ec) {
  return listen(port, ListenOptions{}, ec);
}

TcpListener Interface::listen(uint16_t port, const ListenOptions& options, std::error_code& ec) {
  const SocketId s = core_->open_socket(
      core_->listeners, ec,
      [port, options](Stack& st, std::error_code& e) { return st.listen(port, options, e); });
  if (ec) return {};
  return TcpListener(core_, s);
}

TcpStream Interface::connect(IpAddr addr, uint16_t port) {
  std::error_code ec;
  TcpStream s = connect(addr, port, ec);
  throw_if(ec, "utcp connect");
  return s;
}

TcpStream Interface::connect(IpAddr addr, uint16_t port, std::error_code& ec) {
  return connect(addr, port, Duration::max(), ec);
}

TcpStream Interface::connect(IpAddr addr, uint16_t port, Duration timeout) {
  std::error_code ec;
  TcpStream s = connect(addr, port, timeout, ec);
  throw_if(ec, "utcp connect");
  return s;
}

TcpStream Interface::connect(IpAddr addr, uint16_t port, Duration timeout, std::error_code& ec) {
  const Instant start = EventLoop::clock_now();
  // Duration::max() (and anything reaching past the clock's range) means no timeout.
  const Instant deadline =
      timeout >= kNever - start ? kNever : start + std::max(timeout, Duration::zero());
  InterfaceCore& c = *core_;
  const SocketId id = c.open_socket(c.streams, ec, [addr, port](Stack& st, std::error_code& e) {
    return st.connect(addr, port, e);
  });
  if (ec) return {};
  TcpStream stream(core_, id);
  c.blocking<bool>(
      id, ec,
      [id](Stack& st, std::error_code& e) {
        const uint32_t bits = st.readiness(id);
        if (bits & ready::kConnected) return true;
        if (bits & ready::kError) {
          e = st.error(id);
          if (!e) e = std::make_error_code(std::errc::connection_aborted);
          return false;
        }
        e = std::make_error_code(std::errc::operation_would_block);
        return false;
      },
      deadline);
  // `stream` releases the failed (or abandoned, still SYN-SENT) socket: nothing more is sent.
  if (ec) return {};
  return stream;
}

std::vector<std::pair<std::string, uint64_t>> Interface::counters() {
  auto r = core_->call([](Stack& st) {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const auto& [name, value] : st.counters()) out.emplace_back(std::string(name), value);
    return out;
  });
  return r ? std::move(*r) : std::vector<std::pair<std::string, uint64_t>>{};
}

size_t Interface::connection_count() {
  auto r = core_->call([](Stack& st) { return st.connection_count(); });
  return r ? *r : 0;
}

// ---- TcpListener ----

TcpListener::TcpListener(std::shared_ptr<InterfaceCore> core, SocketId id)
    : core_(std::move(core)), id_(id) {}

TcpListener::~TcpListener() {
  release();
}

TcpListener::TcpListener(TcpListener&& other) noexcept
    : core_(std::move(other.core_)), id_(std::exchange(other.id_, kNoSocket)) {}

TcpListener& TcpListener::operator=(TcpListener&& other) noexcept {
  if (this != &other) {
    release();
    core_ = std::move(other.core_);
    id_ = std::exchange(other.id_, kNoSocket);
  }
  return *this;
}

void TcpListener::release() {
  if (!core_) return;
  InterfaceCore* c = core_.get();
  const SocketId id = id_;
  c->post([c, id] {
    c->stack->close(id);
    c->listeners.erase(id);
  });
  c->forget(id);
  core_.reset();
  id_ = kNoSocket;
}

TcpStream TcpListener::accept(Endpoint* peer) {
  std::error_code ec;
  TcpStream s = accept(ec, peer);
  throw_if(ec, "utcp accept");
  return s;
}

TcpStream TcpListener::accept(std::error_code& ec, Endpoint* peer) {
  if (!core_) {
    ec = not_connected_error();
    return {};
  }
  InterfaceCore& c = *core_;
  const SocketId l = id_;
  Endpoint from;
  const SocketId s = c.blocking<SocketId>(l, ec, [&](Stack& st, std::error_code& e) {
    const SocketId got = st.accept(l, e, &from);
    if (got != kNoSocket && !e) c.streams.insert(got);
    return got;
  });
  if (ec || s == kNoSocket) {
    if (!ec) ec = canceled_error();
    return {};
  }
  if (peer) *peer = from;
  return TcpStream(core_, s);
}

Endpoint TcpListener::local_endpoint() const {
  if (!core_) return {};
  const SocketId id = id_;
  auto r = core_->call([id](Stack& st) { return st.local_endpoint(id); });
  return r ? *r : Endpoint{};
}

// ---- TcpStream ----

TcpStream::TcpStream(std::shared_ptr<InterfaceCore> core, SocketId id)
    : core_(std::move(core)), id_(id) {}

TcpStream::~TcpStream() {
  release(false);
}

TcpStream::TcpStream(TcpStream&& other) noexcept
    : core_(std::move(other.core_)), id_(std::exchange(other.id_, kNoSocket)) {}

TcpStream& TcpStream::operator=(TcpStream&& other) noexcept {
  if (this != &other) {
    release(false);
    core_ = std::move(other.core_);
    id_ = std::exchange(other.id_, kNoSocket);
  }
  return *this;
}

void TcpStream::release(bool abort) {
  if (!core_) return;
  InterfaceCore* c = core_.get();
  const SocketId id = id_;
  c->post([c, id, abort] {
    if (abort) {
      c->stack->abort(id);
    } else {
      c->stack->close(id);
    }
    c->streams.erase(id);
  });
  c->forget(id);
  core_.reset();
  id_ = kNoSocket;
}

void TcpStream::close() {
  release(false);
}
void TcpStream::abort() {
  release(true);
}

size_t TcpStream::read(std::span<uint8_t> out) {
  std::error_code ec;
  const size_t n = read(out, ec);
  throw_if(ec, "utcp read");
  return n;
}

size_t TcpStream::read(std::span<uint8_t> out, std::error_code& ec) {
  if (!core_) {
    ec = not_connected_error();
    return 0;
  }
  ec.clear();
  if (out.empty()) return 0;
  const SocketId id = id_;
  return core_->blocking<size_t>(
      id, ec, [id, out](Stack& st, std::error_code& e) { return st.recv(id, out, e); });
}

size_t TcpStream::write(std::span<const uint8_t> data) {
  std::error_code ec;
  const size_t n = write(data, ec);
  throw_if(ec, "utcp write");
  return n;
}

size_t TcpStream::write(std::span<const uint8_t> data, std::error_code& ec) {
  if (!core_) {
    ec = not_connected_error();
    return 0;
  }
  ec.clear();
  if (data.empty()) return 0;
  const SocketId id = id_;
  return core_->blocking<size_t>(id, ec, [id, data](Stack& st, std::error_code& e) {
    const size_t n = st.send(id, data, e);
    if (n == 0 && !e) e = std::make_error_code(std::errc::operation_would_block);
    return n;
  });
}

void TcpStream::write_all(std::span<const uint8_t> data) {
  std::error_code ec;
  write_all(data, ec);
  throw_if(ec, "utcp write");
}

void TcpStream::write_all(std::span<const uint8_t> data, std::error_code& ec) {
  ec.clear();
  while (!data.empty()) {
    const size_t n = write(data, ec);
    if (ec) return;
    data = data.subspan(n);
  }
}

void TcpStream::shutdown() {
  std::error_code ec;
  shutdown(ec);
  throw_if(ec, "utcp shutdown");
}

void TcpStream::shutdown(std::error_code& ec) {
  if (!core_) {
    ec = not_connected_error();
    return;
  }
  const SocketId id = id_;
  auto r = core_->call([id](Stack& st) {
    std::error_code e;
    st.shutdown_write(id, e);
    return e;
  });
  ec = r ? *r : canceled_error();
}

bool TcpStream::wait_fin_acked(Duration timeout) {
  if (!core_) return false;
  const Instant deadline = EventLoop::clock_now() + timeout;
  const SocketId id = id_;
  InterfaceCore& c = *core_;
  for (;;) {
    struct Seen {
      tcp::State state;
      bool failed;
      uint64_t generation;
    };
    auto r = c.call([&](Stack& st) {
      return Seen{st.state(id), static_cast<bool>(st.error(id)), c.generation_of(id)};
    });
    if (!r || r->failed) return false;
    if (detail::fin_acked(r->state)) return true;
    if (EventLoop::clock_now() >= deadline) return false;
    if (!c.wait_change(id, r->generation, deadline)) return false;
  }
}

void TcpStream::set_nodelay(bool on) {
  if (!core_) return;
  const SocketId id = id_;
  core_->call([id, on](Stack& st) {
    st.set_nodelay(id, on);
    return true;
  });
}

Endpoint TcpStream::local_endpoint() const {
  if (!core_) return {};
  const SocketId id = id_;
  auto r = core_->call([id](Stack& st) { return st.local_endpoint(id); });
  return r ? *r : Endpoint{};
}

Endpoint TcpStream::peer_endpoint() const {
  if (!core_) return {};
  const SocketId id = id_;
  auto r = core_->call([id](Stack& st) { return st.remote_endpoint(id); });
  return r ? *r : Endpoint{};
}

tcp::State TcpStream::state() const {
  if (!core_) return tcp::State::kClosed;
  const SocketId id = id_;
  auto r = core_->call([id](Stack& st) { return st.state(id); });
  return r ? *r : tcp::State::kClosed;
}

}  // namespace utcp
