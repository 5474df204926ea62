// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One upstream connection being set up for a relayed TCP connection (issue 14): a
// non-blocking kernel socket (prepared by the SocketSetup, so it never routes back into the
// TUN), connected to the destination (direct) or to the proxy server, then the proxy's
// handshake (SOCKS5 CONNECT, HTTP CONNECT) run over it. Driven by the EventLoop (add_fd); the
// callback runs once, with a connected descriptor or with why not. The TCP relay answers the
// client's SYN only then (accept_request, reset_request or reject_request).
//
// Direct connections to a name (a fake-IP destination) resolve it with getaddrinfo on a thread
// of their own, whose answer is posted back to the loop; the loop never blocks on DNS.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http_connect_client.hpp"
#include "proxy_config.hpp"
#include "socks5_client.hpp"
#include "upstream_target.hpp"
#include "utcp/event_loop.hpp"
#include "utcp/stack.hpp"

namespace utcp::proxy {

// Prepares an upstream socket before connect() (pnet's RouteSetup::prepare_upstream_socket:
// SO_BINDTODEVICE, SO_MARK); false with `error` refuses the connection.
using UpstreamSocketSetup = std::function<bool(int fd, std::string& error)>;

// How a failed dial is answered to the client, and logged.
enum class DialFailure : uint8_t {
  kNone,
  kRefused,      // RST (the destination or proxy refused; proxy failures of any other kind)
  kUnreachable,  // ICMP host unreachable (no route, SOCKS5 REP 3/4/6, HTTP 502/504)
  kProhibited,   // ICMP administratively prohibited (SOCKS5 REP 2, HTTP 403)
  kTimeout,      // --connect-timeout passed: ICMP host unreachable
  kAuth,         // the proxy refused our credentials: RST
};

struct DialResult {
  DialFailure failure = DialFailure::kNone;
  int fd = -1;  // connected, through the handshake, TCP_NODELAY set; the callee owns it now
  std::vector<uint8_t> early;  // bytes after the proxy's reply: the destination's first bytes
  std::string error;           // one line when failed
  // SessionRecord::end's word for the failure: "refused", "unreachable", "prohibited",
  // "timeout", "auth-failed".
  const char* end_word() const;
};

// The upstream as -v and --stats-json name it: "direct", "socks5 10.80.0.2:1080", ...
std::string upstream_name(const ProxyConfig& config);

class UpstreamDial {
 public:
  using Done = std::function<void(DialResult)>;

  // Starts at once. `done` runs on the loop thread later (never from inside the constructor),
  // exactly once unless the dial is destroyed first (which cancels it and closes the socket).
  // The dial must not be destroyed from inside `done`: hand it to the loop's next round.
  UpstreamDial(EventLoop& loop, const ProxyConfig& config, const UpstreamSocketSetup& setup,
               Target target, Done done);
  ~UpstreamDial();
  UpstreamDial(const UpstreamDial&) = delete;
  UpstreamDial& operator=(const UpstreamDial&) = delete;

  // The connect timeout passed: fails with kTimeout (the callback runs now).
  void expire();
  bool finished() const { return finished_; }

 private:
  struct Resolution;  // shared with the resolver thread

  void start_connect(const Endpoint& to);
  void on_events(uint32_t events);
  // Writes what the handshake has to send, then reads (when `readable`) until EAGAIN.
  void pump_handshake(bool readable);
  void finish_ok();
  void fail(DialFailure why, std::string error);
  // The same, reported from the loop's next round (the caller may be the constructor).
  void fail_later(DialFailure why, std::string error);
  void close_fd();

  EventLoop& loop_;
  const ProxyConfig& config_;
  const UpstreamSocketSetup& setup_;
  Target target_;
  Done done_;
  int fd_ = -1;
  bool connected_ = false;
  bool finished_ = false;
  std::unique_ptr<Socks5Handshake> socks_;
  std::unique_ptr<HttpConnectHandshake> http_;
  std::vector<uint8_t> early_;
  std::shared_ptr<Resolution> resolution_;
  std::shared_ptr<UpstreamDial*> self_;  // null once destroyed: posted reports check it
};

}  // namespace utcp::proxy
