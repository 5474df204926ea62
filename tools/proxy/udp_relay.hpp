// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp-proxy's UDP side (issue 14): every UDP flow the Stack forwards (Stack::next_udp_flow:
// a socket connected to the client whose local endpoint is the original destination) is
//  - answered locally when it is DNS (port 53) in fake-IP mode (fake_ip_dns.hpp), or
//  - relayed directly: one connected, non-blocking kernel UDP socket per flow, prepared by
//    SocketSetup (SO_BINDTODEVICE, SO_MARK) before connect(); or
//  - relayed through SOCKS5: one UDP ASSOCIATE (socks5_association.hpp) shared by the flows of
//    one client address, datagrams wrapped in the RFC 1928 §7 header (which names each one's
//    destination) to the server's relay endpoint and replies told apart by the header's source
//    (udp_relay_socks5.cpp); its flows end when the control connection does.
// A direct flow to a fake-IP address goes to its name, resolved with getaddrinfo on a thread of
// its own (the loop never blocks; datagrams wait in the flow's queue meanwhile).
// An HTTP CONNECT upstream cannot carry UDP (RFC 9110 §9.3.6 tunnels a byte stream): its flows
// are dropped (counted, closed as "unsupported"); DNS then works only in fake-IP mode.
// --dns-server (ProxyConfig::dns_upstream) sends relayed port-53 flows there instead.
// Queues toward the upstream are bounded (datagrams past them are dropped and counted); a
// flow idle (no datagram either way) for udp_idle_timeout is closed; at max_sessions flows a
// new one is refused. Each flow is one SessionSink session.
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fake_ip_dns.hpp"
#include "proxy_config.hpp"
#include "session_sink.hpp"
#include "upstream_target.hpp"
#include "utcp/event_loop.hpp"
#include "utcp/stack.hpp"

namespace utcp::proxy {

// Prepares an upstream socket before it connects (pnet's RouteSetup::prepare_upstream_socket);
// false with `error` set refuses it. Empty: nothing to prepare.
using SocketSetup = std::function<bool(int fd, std::string& error)>;

class Socks5Association;

class UdpRelay {
 public:
  UdpRelay(Stack& stack, EventLoop& loop, const ProxyConfig& config, SocketSetup setup,
           SessionSink& sink);
  ~UdpRelay();  // closes every flow and upstream socket (sessions end as "shutdown")
  UdpRelay(const UdpRelay&) = delete;
  UdpRelay& operator=(const UdpRelay&) = delete;

  void on_flow(const Stack::UdpFlow& flow);  // main calls it for each stack.next_udp_flow()
  // True if s is one of its flows (main routes the Stack's readiness callback through it).
  bool on_readiness(SocketId s, uint32_t ready);
  void after_process();  // main calls it from its after-process hook
  // Fake-IP mode: the name an address stands for (nullopt otherwise). TCP uses it to dial by name.
  std::optional<std::string> fake_ip_name(const IpAddr& addr) const;
  size_t flow_count() const { return flows_.size(); }
  // SOCKS5 UDP associations open (each one control connection to the server).
  size_t association_count() const { return associations_.size(); }

  // Totals by name (flows, local DNS answers, drops by reason), for --stats-json and SIGUSR1.
  std::vector<std::pair<std::string_view, uint64_t>> counters() const;

  // Bounds of the queue toward one flow's upstream (while a SOCKS5 association is being set
  // up, or the kernel socket's buffer is full).
  static constexpr size_t kMaxQueuedDatagrams = 64;
  static constexpr size_t kMaxQueuedBytes = 256 * 1024;

 private:
  enum class WriteResult : uint8_t { kDone, kBlocked, kEnded };  // kDone: sent or dropped
  struct Flow;
  struct Resolution;
  struct Association;
  struct ReplyKey;
  struct ReplyKeyHash;
  struct Counters {
    uint64_t flows = 0;
    uint64_t dns_answers = 0;
    uint64_t datagrams_up = 0;
    uint64_t datagrams_down = 0;
    uint64_t drop_queue_full = 0;
    uint64_t drop_send_error = 0;
    uint64_t drop_bad_header = 0;      // a SOCKS5 relay datagram without a valid §7 header
    uint64_t drop_fragment = 0;        // FRAG != 0 (RFC 1928 §7)
    uint64_t drop_no_flow = 0;         // a relay datagram from where none of its flows sent
    uint64_t dns_ids_rewritten = 0;    // a query's ID taken by another flow's, sent as a free one
    uint64_t associations = 0;         // SOCKS5 UDP ASSOCIATEs made
    uint64_t refused_limit = 0;        // max_sessions
    uint64_t refused_unsupported = 0;  // HTTP CONNECT upstream
    uint64_t refused_no_name = 0;      // a fake IP no name stands for (any more)
    uint64_t upstream_refused = 0;     // ICMP port unreachable (ECONNREFUSED)
    uint64_t upstream_failed = 0;      // socket setup, connect, SOCKS5 handshake
    uint64_t idle = 0;
  };

  void start_direct(Flow& f, const Endpoint& to);
  void start_resolve(Flow& f);  // direct to a fake address: its name, resolved off the loop
  void on_resolved(SocketId s, std::optional<Endpoint> found);
  void start_socks5(Flow& f);
  // udp_relay_socks5.cpp: associations shared by one client's flows.
  Association* open_association(const IpAddr& client, bool shared, std::string& why);
  void on_association_control(uint64_t id, uint32_t events);
  void on_association_udp(uint64_t id, uint32_t events);
  void deliver_from_relay(Association& a, std::span<uint8_t> datagram);
  WriteResult write_to_relay(Flow& f, std::span<const uint8_t> datagram);
  // A DNS query of f, the last `size` bytes of wrap_: where its answer goes (may change its ID).
  void route_dns_query(Association& a, const Flow& f, size_t size);
  void leave_association(Flow& f);
  // Ends every flow of the association (each as `why`, counted in `counter` if given), then it.
  void end_association(uint64_t id, const char* why, uint64_t* counter);
  void close_association(uint64_t id);
  void sweep_associations(Instant now);
  void on_upstream(SocketId s, uint32_t events);
  void pump_client(Flow& f);
  void send_up(Flow& f, std::span<const uint8_t> datagram);
  WriteResult write_up(Flow& f, std::span<const uint8_t> datagram);
  void flush_up(Flow& f);
  void update_upstream_events(Flow& f);
  int open_socket(int type, const Endpoint& to, std::string& error);
  bool watch(int fd, uint32_t events, std::function<void(uint32_t)> callback);  // loop_.add_fd
  void end(SocketId s, std::string why, bool stack_closed = false);
  void refuse(const Stack::UdpFlow& flow, const char* why, uint64_t& counter);
  void arm_sweep();
  void sweep();
  double seconds_since_start(Instant t) const;
  std::string upstream_name() const;  // SessionRecord::upstream

  Stack& stack_;
  EventLoop& loop_;
  const ProxyConfig& config_;
  SocketSetup setup_;
  SessionSink& sink_;
  std::optional<FakeIpDns> dns_;
  Instant started_;
  std::unordered_map<SocketId, std::unique_ptr<Flow>> flows_;
  std::unordered_map<uint64_t, std::unique_ptr<Association>> associations_;
  std::unordered_multimap<IpAddr, uint64_t> shared_associations_;  // by client address
  uint64_t next_association_ = 1;
  std::vector<SocketId> dirty_;  // flows the stack said have datagrams (or errors) to read
  int sweep_fd_ = -1;            // timerfd: periodic idle / setup-timeout check while flows exist
  bool sweep_armed_ = false;
  // One datagram at a time, either way (the largest UDP payload fits); left uninitialised, so
  // only the pages datagrams touch become resident.
  static constexpr size_t kBufSize = 65536;
  std::unique_ptr<uint8_t[]> buf_;
  std::vector<uint8_t> wrap_;  // a datagram with its SOCKS5 header
  Counters counters_;
};

}  // namespace utcp::proxy
