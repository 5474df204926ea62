// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One TCP connection as a deterministic, sans-IO object (RFC 9293). Inputs: segments, the time,
// application calls and timer expiry. Outputs, polled: segments to transmit, the next deadline
// and events. It never reads a clock, touches a socket or allocates per segment.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>

#include "tcp/challenge_ack_limiter.hpp"
#include "tcp/ecn.hpp"
#include "tcp/event.hpp"
#include "tcp/memory_budget.hpp"
#include "tcp/rcv_autotune.hpp"
#include "tcp/receiver.hpp"
#include "tcp/sender.hpp"
#include "tcp/tcb.hpp"
#include "tcp/timers.hpp"
#include "utcp/address.hpp"
#include "utcp/tcp_config.hpp"
#include "utcp/tcp_info.hpp"
#include "utcp/tcp_state.hpp"
#include "utcp/time.hpp"
#include "wire/tcp.hpp"

namespace utcp::tcp {

// The addresses only feed the checksum's pseudo-header and the IP header length the MSS
// leaves room for (RFC 9293 §3.7.1); the engine is otherwise the same for both families.
struct Endpoints {
  wire::IpAddr local_addr;
  uint16_t local_port = 0;
  wire::IpAddr remote_addr;
  uint16_t remote_port = 0;
};

// What the stack lends every connection.
struct Env {
  // RFC 5961 §7 limits (stack-wide, and per connection if configured); null = none.
  ChallengeAckLimiter* challenge_acks = nullptr;
  // The stack-wide budget for buffer memory (Linux's tcp_mem); null = none.
  MemoryBudget* memory = nullptr;
};

// ICMP errors the IP layer may hand to the connection (RFC 1122 §4.2.3.9, RFC 5461).
enum class IcmpError : uint8_t {
  kNetUnreachable,
  kHostUnreachable,
  kProtocolUnreachable,
  kPortUnreachable,
  kFragmentationNeeded,
  kSourceRouteFailed,
  kAdminProhibited,
  kTimeExceeded,
  kParameterProblem,
};

// A problem the application is told about without the connection closing (RFC 9293 §3.8.3
// SHLD-9, §3.9.2.2 SHLD-25, RFC 1122 §4.2.3.9): a soft ICMP error, or retransmissions of one
// segment reaching R1 (Config::r1_retransmits).
struct SoftError {
  enum class Kind : uint8_t { kIcmp, kRetransmitThreshold };
  Kind kind = Kind::kIcmp;
  IcmpError icmp = IcmpError::kNetUnreachable;  // which one, for kIcmp
  friend constexpr bool operator==(SoftError, SoftError) = default;
};

// A Config that outlives the connection (the Stack's own), shared instead of copied: a
// connection copies it only when a socket option changes one of its fields.
struct SharedConfig {
  const Config* cfg;
};

class Connection {
 public:
  // Largest header poll_transmit writes: callers size buffers as this plus effective_mss().
  static constexpr size_t kMaxHeaderLen = wire::kTcpHeaderMax;

  // Keeps a copy of `cfg`.
  explicit Connection(const Endpoints& ep, const Config& cfg = {}, Env env = {});
  // Reads `shared` until an option changes (its ip_header_len must match ep's family, or it is
  // copied at once).
  Connection(const Endpoints& ep, SharedConfig shared, Env env);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // ---- Application calls (RFC 9293 §3.10.1-§3.10.6) ----
  // Active OPEN: CLOSED -> SYN-SENT; the SYN is emitted by poll_transmit.
  void open_active(Instant now, wire::SeqNum iss);
  // Passive OPEN: CLOSED -> LISTEN. The stack makes one LISTEN connection per arriving SYN and
  // feeds it that SYN; `iss` is the ISN for our SYN-ACK.
  void listen(wire::SeqNum iss);
  // Queues data; returns how much fit (0 once our side has closed or the connection is gone).
  size_t send(std::span<const uint8_t> data, Instant now);
  // Same, marking the data urgent: the urgent pointer will point past its last byte.
  size_t send_urgent(std::span<const uint8_t> data, Instant now);
  // Reads in-order bytes. 0 with peer_finished() means end of stream.
  size_t recv(std::span<uint8_t> dst, Instant now);
  // Half-close: no more data from us; a FIN follows what was queued. Reads continue.
  void shutdown_write(Instant now);
  // Full CLOSE: shutdown_write, and we will read no more (unread or later data draws a RST,
  // RFC 1122 §4.2.2.13).
  void close(Instant now);
  // ABORT (RFC 9293 §3.10.5): RST if synchronized, then CLOSED.
  void abort(Instant now);
  // Leaves TIME-WAIT for CLOSED at once, without a segment or an error: a new incarnation of
  // the connection takes over (RFC 9293 §3.6.1, see time_wait_reuse.hpp).
  void end_time_wait();

  void set_nodelay(bool on);
  // Linux's TCP_CORK: hold short segments while on (Sender::set_cork); clearing it lets them go.
  void set_cork(bool on) { sender_.set_cork(on); }
  // MSG_MORE for the write just made: its short tail waits for the next write (or the cork
  // ceiling). Any write without it (send()) clears it.
  void set_more() { sender_.set_more(true); }
  // Linux's TCP_NOTSENT_LOWAT: send() takes data only while fewer than `bytes` queued bytes
  // are unsent, and send_space() (writability) is non-zero only below half of that, so a
  // writer woken by it has room for a useful amount. UINT32_MAX (default): no limit.
  void set_notsent_lowat(uint32_t bytes) { notsent_lowat_ = bytes; }
  uint32_t notsent_lowat() const { return notsent_lowat_; }
  // Buffer sizes (defaults 256 KiB, both autotuned up to Config::send_buffer_max /
  // recv_buffer_max). An explicit send size pins the send buffer (autotuning stops) and never
  // drops queued data; the receive buffer sets the window scale if changed before opening, and
  // may only grow afterwards.
  void set_send_buffer(size_t bytes);
  void set_recv_buffer(size_t bytes);
  void set_keepalive(const KeepaliveConfig& k, Instant now);
  void set_user_timeout(Duration d);
  // A smaller path MTU (RFC 1191) lowers the segment size from the next segment on.
  void set_path_mtu(uint16_t mtu);
  // TCP_MAXSEG: the MSS we announce and the cap on what we send (RFC 9293 §3.7.1). It counts
  // only until the connection is synchronized: the SYNs fixed both sides' MSS (Linux likewise).
  void set_user_mss(uint16_t mss);
  void on_icmp_error(IcmpError e, Instant now);

  // ---- Network and time ----
  // A segment already matched to this connection (parsed and checksum-verified). `ecn` is the
  // IP header's ECN field (RFC 3168 §5).
  void on_segment(const wire::TcpRepr& seg, Instant now, uint8_t ecn = 0);
  // Call at or after next_deadline().
  void on_timeout(Instant now);
  // Direct placement: the receive buffer at RCV.NXT, `headroom` bytes early, where a device
  // may read the next in-order segment (headers in the headroom) so that on_segment stores
  // its payload without a copy. Empty when the connection takes no data or the buffer holds
  // out-of-order bytes. Valid until the next call into the connection; the caller restores
  // the headroom bytes.
  std::span<uint8_t> receive_placement(size_t headroom, size_t min_room) {
    if (!can_receive_data(state_) || app_closed_) return {};
    return receiver_.placement(headroom, min_room);
  }
  // While held, the receive buffer's storage does not move (ReassemblyQueue::hold_storage):
  // the direct-placement lease holds it around the input of a placed segment.
  void hold_receive_storage(bool held) { receiver_.hold_storage(held); }

  // ---- Outputs ----
  // Writes one complete TCP segment (header, options, payload, checksum) into buf and returns
  // its length, or 0 if there is nothing to send. Call until it returns 0 after every input.
  size_t poll_transmit(Instant now, std::span<uint8_t> buf);
  Instant next_deadline() const { return timers_.next(); }
  // Memory, not protocol: when release_idle_memory() should run (kNever = nothing to free).
  // Empty buffers and logs are freed once no segment moved for Config::idle_release, so an idle
  // connection holds only this object and its congestion controller; they are allocated again
  // on the next use (at most once per idle period, never per segment). A ring that still holds
  // bytes shrinks to their size then, if that halves it.
  Instant memory_release_deadline() const;
  void release_idle_memory();
  // Heap bytes held in buffers and logs allocated on demand (not this object itself).
  size_t buffer_bytes() const { return sender_.allocated() + receiver_.allocated(); }
  std::optional<Event> poll_event() { return events_.pop(); }

  // ---- Queries ----
  State state() const { return state_; }
  const Endpoints& endpoints() const { return ep_; }
  const Tcb& tcb() const { return tcb_; }
  // The options in force (nodelay: the initial one; Sender::nodelay() holds the current).
  const Config& config() const { return *cfg_; }
  // Whether this connection holds a Config of its own (an option changed it, or it was made
  // with a Config to copy): memory accounting and the sharing test.
  bool owns_config() const { return own_cfg_ != nullptr; }
  const Timers& timers() const { return timers_; }
  const Sender& sender() const { return sender_; }
  const Receiver& receiver() const { return receiver_; }
  size_t recv_available() const { return receiver_.readable(); }
  size_t send_space() const;
  size_t send_queued() const { return sender_.queued(); }
  // Of send_queued(), the bytes never sent yet (SIOCOUTQNSD).
  size_t send_unsent() const;
  bool peer_finished() const { return receiver_.fin_received(); }
  std::optional<uint64_t> urgent_mark() const { return receiver_.urgent_mark(tcb_); }
  ErrorReason error() const { return error_; }
  // The latest soft error since the peer last acknowledged something new (progress clears it,
  // as in Linux); a kSoftError event announces each one. take_soft_error() also clears it.
  std::optional<SoftError> soft_error() const { return soft_error_; }
  std::optional<SoftError> take_soft_error() { return std::exchange(soft_error_, std::nullopt); }
  uint32_t effective_mss() const { return sender_.mss(); }
  // A TCP_INFO-like snapshot of the connection's state and counters.
  TcpInfo tcp_info() const;
  // ECN codepoint for the IP header of the segment poll_transmit just wrote (RFC 3168 §6.1).
  uint8_t ecn_codepoint() const { return last_ecn_; }
  const EcnState& ecn() const { return ecn_; }

 private:
  struct PendingRst {
    wire::SeqNum seq;
    wire::SeqNum ack;
    bool with_ack = false;
  };

  // connection_input.cpp
  void on_segment_listen(const wire::TcpRepr& seg, Instant now);
  void on_segment_syn_sent(const wire::TcpRepr& seg, Instant now);
  void on_segment_synchronized(const wire::TcpRepr& seg, Instant now);
  bool paws_rejects(const wire::TcpRepr& seg, Instant now);
  void update_ts_recent(const wire::TcpRepr& seg, Instant now);
  bool process_ack(const wire::TcpRepr& seg, Instant now);
  void process_text(const wire::TcpRepr& seg, wire::SeqNum text_seq, Instant now);
  void apply_peer_syn(const wire::TcpRepr& seg, Instant now);
  void enter_established(Instant now);
  void challenge_ack(Instant now);

  // connection.cpp
  Connection(const Endpoints& ep, std::unique_ptr<Config> own, Env env,
             const Config* shared = nullptr);
  Config& own_config();
  bool below_notsent_lowat() const;
  void enter(State s);
  void enter_time_wait(Instant now);
  void terminate(ErrorReason reason);
  void queue_rst(wire::SeqNum seq, wire::SeqNum ack, bool with_ack);
  void queue_fin_and_advance();
  void after_input(Instant now);
  void on_retransmit_timeout(Instant now);
  void on_keepalive_timeout(Instant now);
  void arm_keepalive(Instant now);

  // connection_output.cpp
  size_t emit(wire::TcpRepr& repr, std::span<uint8_t> buf, const SendPlan* plan);
  wire::TcpRepr make_repr(uint8_t flags, wire::SeqNum seq) const;
  void add_timestamp(wire::TcpRepr& repr, Instant now) const;
  size_t emit_syn(std::span<uint8_t> buf, Instant now);

  Endpoints ep_;
  const Config* cfg_;                // own_cfg_ or the Stack's
  std::unique_ptr<Config> own_cfg_;  // copy-on-write (own_config())
  Env env_;
  // Ordered by alignment (8, 4, 1 bytes) so that the object carries little padding.
  Tcb tcb_;
  Sender sender_;
  Receiver receiver_;
  Timers timers_;
  Instant last_recv_{};
  uint64_t segs_in_ = 0;
  uint64_t bytes_received_ = 0;
  RcvAutotune autotune_;
  ChallengeAckLimiter::ConnectionBudget challenge_budget_;  // RFC 5961 §7, this connection's
  std::optional<PendingRst> pending_rst_;
  EcnState ecn_;
  uint32_t keepalive_sent_ = 0;
  uint32_t notsent_lowat_ = UINT32_MAX;
  EventQueue events_;
  std::optional<SoftError> soft_error_;
  State state_ = State::kClosed;
  ErrorReason error_ = ErrorReason::kNone;
  uint8_t last_ecn_ = 0;
  bool peer_offered_wscale_ = false;  // both SYNs carry Window Scale (RFC 7323 §2.2)
  bool passive_ = false;     // came from LISTEN (RFC 9293 §3.10.7.4 first check, RST in SYN-RCVD)
  bool app_closed_ = false;  // close() called: reads are over
  bool keepalive_probe_ = false;
};

}  // namespace utcp::tcp
