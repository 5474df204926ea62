// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp-proxy's SessionSink: every relayed TCP connection and UDP flow, as -v's one line per
// session (written when it ends) and as JSON (--stats-json at exit, the --control socket at any
// time): each session's record (with the TUN side's tcp_info summary for TCP) and totals. The
// records of ended sessions are kept up to a bound (the newest `keep_closed`), so a proxy that
// runs for months holds a bounded log; totals count every session ever.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "proxy_config.hpp"
#include "session_sink.hpp"
#include "utcp/tcp_info.hpp"

namespace utcp::proxy {

// The part of tcp::TcpInfo a session record carries.
struct TcpSummary {
  uint32_t snd_mss = 0;
  uint32_t cwnd = 0;
  uint64_t srtt_us = 0;
  uint64_t min_rtt_us = 0;
  uint64_t total_retrans = 0;
  uint64_t segs_in = 0;
  uint64_t segs_out = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  bool sack = false;
  bool timestamps = false;
  static TcpSummary from(const tcp::TcpInfo& info);
};

class SessionLog final : public SessionSink {
 public:
  // Ended records kept for the JSON (the newest). A record is about 300 bytes, and one --control
  // answer renders all of them: 1,000 keep both small (10,000 made a 2.7 MB answer).
  static constexpr size_t kKeepClosed = 1000;

  // now_s: seconds since the proxy started (a clock of the caller's, so tests can drive it).
  // log_line: where -v lines go (nullptr: not logged).
  SessionLog(std::function<double()> now_s, std::function<void(const std::string&)> log_line,
             size_t keep_closed = kKeepClosed);

  uint64_t open(SessionRecord record) override;
  SessionRecord* find(uint64_t id) override;
  void close(uint64_t id, std::string why) override { close(id, std::move(why), ""); }
  // The same with the error behind it (a proxy's refusal, errno's words): shown in the -v line
  // and kept as "error" in the JSON.
  void close(uint64_t id, std::string why, std::string detail);

  // The TUN side's statistics of a TCP session (taken before its socket is released).
  void note_tcp_info(uint64_t id, const tcp::TcpInfo& info);

  size_t open_count() const { return open_.size(); }
  size_t open_tcp() const { return open_tcp_; }

  // {"sessions": [open ones, then the kept ended ones, oldest first], "totals": {...}}.
  nlohmann::json to_json() const;
  // The same document as text, rendered one record at a time (no document of every record in
  // memory at once); `totals` replaces totals_json() (the program adds the UDP relay's counters).
  std::string to_json_text(const nlohmann::json& totals) const;
  nlohmann::json totals_json() const;
  // One line of totals, for SIGUSR1.
  std::string totals_line() const;
  // The -v line of a record ("tcp #3 10.77.0.1:40000 -> 10.81.0.2:80 via direct: closed ...").
  static std::string describe(const SessionRecord& r, const std::string& detail = "");

 private:
  struct Entry {
    SessionRecord record;
    std::optional<TcpSummary> tcp;
    std::string detail;
  };
  static nlohmann::json entry_json(const Entry& e);

  std::function<double()> now_s_;
  std::function<void(const std::string&)> log_line_;
  size_t keep_closed_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Entry> open_;
  std::deque<Entry> closed_;
  size_t open_tcp_ = 0;
  // Totals over every session, ended or not.
  uint64_t tcp_total_ = 0;
  uint64_t udp_total_ = 0;
  uint64_t ended_bytes_up_ = 0;
  uint64_t ended_bytes_down_ = 0;
  std::map<std::string, uint64_t> ends_;  // how sessions ended, by SessionRecord::end's word
};

}  // namespace utcp::proxy
