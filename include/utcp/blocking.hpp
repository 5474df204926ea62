// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A blocking, thread-safe facade over a Stack, for programs that prefer one thread per
// connection to an event loop:
//
//   utcp::Interface iface(std::make_unique<utcp::dev::TunDevice>(tun_options));
//   utcp::TcpListener listener = iface.listen(7);
//   utcp::TcpStream stream = listener.accept();
//   size_t n = stream.read(buffer);  // blocks; 0 at end of stream
//   stream.write_all(reply);
//
//   utcp::UdpSocket udp = iface.udp_bind({utcp::Ipv4Addr(), 53});
//   size_t len = udp.recv_from(buffer, &from);  // blocks for one datagram
//   udp.send_to(std::span(buffer).first(len), from);
//
// The Interface owns a Stack and an EventLoop running on a thread of its own; every Stack
// call is posted to that thread and the caller waits for the answer, so listeners and
// streams may be used from any thread (one reader and one writer per stream at a time).
// Blocked callers are woken by the stack's readiness callback.
//
// Errors: every operation has a throwing form (std::system_error) and a form that takes a
// std::error_code&. The codes are the Stack's (connection_refused, connection_reset,
// timed_out, ...); operation_canceled means the Interface has been destroyed.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "utcp/stack.hpp"
#include "utcp/time.hpp"

namespace utcp {

namespace detail {
struct InterfaceCore;
}

struct InterfaceOptions {
  // An all-zero secret is replaced by StackConfig::random_secret().
  StackConfig stack;
  // ~Interface sends FIN on every open connection and waits this long for the peers to
  // acknowledge; connections still unacknowledged then are aborted (RST).
  Duration close_timeout{2'000'000};
};

class TcpStream {
 public:
  TcpStream() = default;  // not connected; every operation fails with not_connected
  ~TcpStream();           // closes gracefully in the background (RFC 9293 §3.10.4)
  TcpStream(TcpStream&& other) noexcept;
  TcpStream& operator=(TcpStream&& other) noexcept;
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  bool valid() const { return core_ != nullptr; }

  // Blocks until at least one byte is available; returns how many were read, 0 at the end
  // of the stream (the peer's FIN).
  size_t read(std::span<uint8_t> out);
  size_t read(std::span<uint8_t> out, std::error_code& ec);
  // Blocks until at least one byte fits in the send buffer; returns how many were taken.
  size_t write(std::span<const uint8_t> data);
  size_t write(std::span<const uint8_t> data, std::error_code& ec);
  // Blocks until every byte is in the send buffer.
  void write_all(std::span<const uint8_t> data);
  void write_all(std::span<const uint8_t> data, std::error_code& ec);
  // Sends FIN after what was written (half-close); reading still works.
  void shutdown();
  void shutdown(std::error_code& ec);
  // After shutdown(): blocks until the peer has acknowledged our FIN (and so every byte
  // written before it), the connection fails, or `timeout` passes. True when acknowledged.
  bool wait_fin_acked(Duration timeout);
  // Closes now: gracefully (close) or with a RST (abort). The stream becomes invalid.
  void close();
  void abort();

  void set_nodelay(bool on);
  Endpoint local_endpoint() const;
  Endpoint peer_endpoint() const;
  tcp::State state() const;

 private:
  friend class Interface;
  friend class TcpListener;
  TcpStream(std::shared_ptr<detail::InterfaceCore> core, SocketId id);
  void release(bool abort);

  std::shared_ptr<detail::InterfaceCore> core_;
  SocketId id_ = kNoSocket;
};

class TcpListener {
 public:
  TcpListener() = default;
  ~TcpListener();  // stops listening; connections not yet accepted are reset
  TcpListener(TcpListener&& other) noexcept;
  TcpListener& operator=(TcpListener&& other) noexcept;
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  bool valid() const { return core_ != nullptr; }

  // Blocks until a connection has completed its handshake.
  TcpStream accept(Endpoint* peer = nullptr);
  TcpStream accept(std::error_code& ec, Endpoint* peer = nullptr);
  Endpoint local_endpoint() const;

 private:
  friend class Interface;
  TcpListener(std::shared_ptr<detail::InterfaceCore> core, SocketId id);
  void release();

  std::shared_ptr<detail::InterfaceCore> core_;
  SocketId id_ = kNoSocket;
};

// A UDP socket (RFC 768) on an Interface: datagrams in and out from any thread (one reader
// and one writer at a time). Errors as the Stack's UDP calls: a pending ICMP error first
// (connection_refused after a port unreachable on a connected socket), then
// operation_would_block is what the blocking calls wait through.
class UdpSocket {
 public:
  UdpSocket() = default;  // no socket; every operation fails with not_connected
  ~UdpSocket();           // closes the socket (queued datagrams are dropped)
  UdpSocket(UdpSocket&& other) noexcept;
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  bool valid() const { return core_ != nullptr; }

  // Blocks until a datagram arrives (or the read timeout passes: timed_out); copies it into
  // out (the rest of a longer one is lost: info->datagram_len says how long it was).
  size_t recv_from(std::span<uint8_t> out, Endpoint* from = nullptr, DatagramInfo* info = nullptr);
  size_t recv_from(std::span<uint8_t> out, std::error_code& ec, Endpoint* from = nullptr,
                   DatagramInfo* info = nullptr);
  // Sends one datagram to `to`, or to the connected peer; never blocks.
  size_t send_to(std::span<const uint8_t> data, const Endpoint& to);
  size_t send_to(std::span<const uint8_t> data, const Endpoint& to, std::error_code& ec);
  size_t send(std::span<const uint8_t> data);
  size_t send(std::span<const uint8_t> data, std::error_code& ec);
  // Sets the default peer and hears from it only (an unspecified address disconnects).
  void connect(const Endpoint& peer, std::error_code& ec);
  // recv_from() gives up after `timeout` (zero: waits forever, the default).
  void set_read_timeout(Duration timeout) { read_timeout_ = timeout; }
  void close();

  Endpoint local_endpoint() const;
  Endpoint peer_endpoint() const;  // port 0 unless connected

 private:
  friend class Interface;
  UdpSocket(std::shared_ptr<detail::InterfaceCore> core, SocketId id);
  void release();

  std::shared_ptr<detail::InterfaceCore> core_;
  SocketId id_ = kNoSocket;
  Duration read_timeout_{0};
};

class Interface {
 public:
  // Borrows `device`, which must outlive the Interface.
  explicit Interface(dev::Device& device, InterfaceOptions options = {});
  // Owns `device`.
  explicit Interface(std::unique_ptr<dev::Device> device, InterfaceOptions options = {});
  // Closes every connection gracefully, waits at most options.close_timeout for the peers
  // to acknowledge, aborts the rest, then stops the loop thread. Blocked callers on other
  // threads return operation_canceled. Listeners and streams that outlive the Interface
  // stay safe to use and destroy; their operations fail with operation_canceled.
  ~Interface();
  Interface(const Interface&) = delete;
  Interface& operator=(const Interface&) = delete;

  // Both families unless `options` says one (see ListenOptions in utcp/stack.hpp).
  TcpListener listen(uint16_t port);
  TcpListener listen(uint16_t port, std::error_code& ec);
  TcpListener listen(uint16_t port, const ListenOptions& options, std::error_code& ec);
  // Blocks until the handshake completes or fails (refused, timed out, ...). Without a
  // timeout that can take minutes against a silent peer (the SYN retransmissions of
  // tcp::Config::syn_retries); with one, the attempt is abandoned after `timeout` and fails
  // with timed_out (as a socket's connect() with SO_SNDTIMEO).
  TcpStream connect(IpAddr addr, uint16_t port);
  TcpStream connect(IpAddr addr, uint16_t port, std::error_code& ec);
  TcpStream connect(IpAddr addr, uint16_t port, Duration timeout);
  TcpStream connect(IpAddr addr, uint16_t port, Duration timeout, std::error_code& ec);

  // UDP sockets: bound to `local` (port 0: ephemeral), or connected to `peer`.
  UdpSocket udp_bind(const Endpoint& local);
  UdpSocket udp_bind(const Endpoint& local, std::error_code& ec);
  UdpSocket udp_connect(const Endpoint& peer);
  UdpSocket udp_connect(const Endpoint& peer, std::error_code& ec);

  // Snapshot of Stack::counters().
  std::vector<std::pair<std::string, uint64_t>> counters();
  size_t connection_count();

 private:
  std::shared_ptr<detail::InterfaceCore> core_;
};

}  // namespace utcp
