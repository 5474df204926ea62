// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp-proxy's TCP side (issue 14): every SYN the Stack forwards becomes a ConnectionRequest;
// the relay dials the upstream first (UpstreamDial) and completes the client's handshake only
// when the upstream has answered (accept_request), or answers the SYN as the upstream did
// (reset_request for a refusal, reject_request with ICMP for unreachable). Then it copies bytes
// both ways:
// - back-pressure: upstream -> client holds nothing (bytes are peeked from the kernel socket and
//   taken only as far as utcp's send buffer takes them); client -> upstream holds at most one
//   read's worth (a ByteQueue allocated only while it holds some; reads are small while the
//   upstream socket is full) and reads nothing more until it is written; so a slow upstream
//   closes utcp's receive window, and a slow client the upstream's;
// - half-close both ways: the client's FIN becomes shutdown(SHUT_WR) upstream, the upstream's
//   EOF becomes shutdown_write() on utcp, and the other direction keeps flowing;
// - aborts both ways: a client reset (or utcp's error) closes the upstream socket with
//   SO_LINGER 0 (a RST), an upstream reset aborts the utcp connection (a RST);
// - timeouts: the dial's (--connect-timeout) and an idle one (--idle-timeout).
// A quiet session holds no buffer: its state is a few dozen bytes besides utcp's connection.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "byte_queue.hpp"
#include "deadline_timer.hpp"
#include "proxy_config.hpp"
#include "session_log.hpp"
#include "upstream_dialer.hpp"
#include "utcp/event_loop.hpp"
#include "utcp/stack.hpp"

namespace utcp::proxy {

class TcpRelay {
 public:
  // Bytes one direction holds at most (what one read of the other side may leave unwritten).
  static constexpr size_t kHold = 64 * 1024;
  // What one read from utcp takes while the upstream socket's buffer is full.
  static constexpr size_t kSlowRead = 8 * 1024;

  // fake_ip_name: the name behind a destination (fake-IP DNS), or nullopt.
  using NameOf = std::function<std::optional<std::string>(const IpAddr&)>;
  // Sessions at once across TCP and UDP: the relay refuses a request past it (a RST, "limit").
  using SessionCount = std::function<size_t()>;

  TcpRelay(Stack& stack, EventLoop& loop, const ProxyConfig& config, UpstreamSocketSetup setup,
           SessionLog& log, NameOf name_of, SessionCount other_sessions);
  ~TcpRelay();  // aborts what is still open (RST both ways)
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  // From the Stack's readiness callback (inside process()): notes the socket for after_process.
  // False if it is not one of the relay's.
  bool on_readiness(SocketId s, uint32_t ready);
  // From the loop's after-process hook: takes new requests, moves bytes on noted sockets.
  void after_process();

  // SIGTERM: new requests are refused (RST), open sessions carry on.
  void drain() { draining_ = true; }
  // The drain timeout passed: every session still open is aborted both ways ("shutdown").
  void abort_all(const std::string& why);
  size_t session_count() const { return sessions_.size(); }

 private:
  struct Session {
    uint64_t id = 0;  // SessionLog's
    RequestId request = 0;
    SocketId sock = kNoSocket;
    int fd = -1;
    std::unique_ptr<UpstreamDial> dial;  // while dialing
    tools::ByteQueue up{kHold};          // from the client, not yet written upstream
    tools::ByteQueue down{kHold};        // from the upstream, not yet taken by utcp
    Instant deadline = kNever;           // dialing: the connect timeout; then the idle one
    uint32_t fd_events = 0;              // what the loop watches on fd (0: not registered)
    bool client_eof = false;             // utcp's recv() returned 0
    bool up_shut = false;                // ... and shutdown(SHUT_WR) went upstream
    bool upstream_eof = false;           // read() returned 0
    bool down_shut = false;              // ... and shutdown_write() went to utcp
    bool queued = false;                 // in work_
    bool up_slow = false;                // the last write upstream was partial: small reads
    bool down_blocked = false;           // utcp took less than the upstream had: no EPOLLIN
    // The upstream socket may have bytes: false after a read found none, true again when epoll
    // reports it (the fd is watched for EPOLLIN meanwhile), so pump() does not ask in vain.
    bool up_readable = false;
  };

  void start(const ConnectionRequest& request);
  void on_dialed(uint64_t id, DialResult result);
  // Moves what can move both ways; ends the session when both directions are done or it failed.
  void pump(Session& s);
  // Upstream socket readiness.
  void on_fd(uint64_t id, uint32_t events);
  void watch_fd(Session& s, uint32_t events);
  // Ends the session (`why`: SessionRecord::end's word; `detail`: the error, for -v).
  void finish(Session& s, const std::string& why, bool reset_client, bool reset_upstream,
              const std::string& detail);
  void sweep();
  void arm_sweep();
  Session* by_id(uint64_t id);

  Stack& stack_;
  EventLoop& loop_;
  const ProxyConfig& config_;
  UpstreamSocketSetup setup_;
  SessionLog& log_;
  NameOf name_of_;
  SessionCount other_sessions_;
  std::string upstream_name_;
  // By value: a node each (stable address), no second allocation per session.
  std::unordered_map<uint64_t, Session> sessions_;
  std::unordered_map<SocketId, uint64_t> by_sock_;
  std::vector<uint64_t> work_;
  std::vector<std::unique_ptr<UpstreamDial>> finished_dials_;  // freed in the next round
  // One read's buffer for every session, uninitialised: an idle proxy has only the pages its
  // reads reached resident (a zero-filled one was 64 KiB from the start).
  std::unique_ptr<uint8_t[]> scratch_storage_ = std::make_unique_for_overwrite<uint8_t[]>(kHold);
  std::span<uint8_t> scratch_{scratch_storage_.get(), kHold};
  tools::DeadlineTimer sweep_timer_;
  Instant sweep_at_ = kNever;
  bool draining_ = false;
};

}  // namespace utcp::proxy
