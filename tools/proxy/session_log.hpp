// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// utcp-proxy's SessionSink: every relayed TCP connection and UDP flow, as -v's one line per
// session (written when it ends) and as JSON (the --control socket at any time, --stats-json):
// each session's record (with the TUN side's tcp_info summary for TCP) and totals.
// Memory is bounded and small, so a proxy can run for months: an open session costs one record
// (its upstream's name is kept once, not per session); of the ended ones only the newest
// `keep_ended` stay (compact), for --control; the totals count every session ever; and every
// ended record can go out as it ends (set_ended_writer: the --stats-json file, stats_file.hpp).
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

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
  // Ended records kept for --control (the newest; --keep-ended). One costs ~200 bytes here
  // and ~450 in each answer; --stats-json gets every record as it ends regardless.
  static constexpr size_t kKeepEnded = 256;

  // now_s: seconds since the proxy started (a clock of the caller's, so tests can drive it).
  // log_line: where -v lines go (nullptr: not logged).
  SessionLog(std::function<double()> now_s, std::function<void(const std::string&)> log_line,
             size_t keep_ended = kKeepEnded);

  // Each ended session's record as one line of JSON text (no newline), as it ends.
  void set_ended_writer(std::function<void(const std::string&)> writer) {
    ended_writer_ = std::move(writer);
  }

  uint64_t open(SessionRecord record) override;
  // The live record. Its `upstream` reads empty (the name is kept once for all sessions that
  // share it); a relay that sets it gives this session its own.
  SessionRecord* find(uint64_t id) override;
  void close(uint64_t id, std::string why) override { close(id, std::move(why), ""); }
  // The same with the error behind it (a proxy's refusal, errno's words: shown in the -v line,
  // "error" in the JSON) and, for TCP, the TUN side's statistics (taken before its socket is
  // released).
  void close(uint64_t id, std::string why, std::string detail,
             const std::optional<TcpSummary>& tcp = std::nullopt);

  size_t open_count() const { return open_.size(); }
  size_t open_tcp() const { return open_tcp_; }
  size_t kept_ended() const { return ended_.size(); }

  // {"sessions": [open ones by id, then the kept ended ones, oldest first], "totals": {...}}.
  nlohmann::json to_json() const;
  // The same document as text, rendered one record at a time (no document of every record in
  // memory at once); `totals` replaces totals_json() (the program adds the UDP relay's counters).
  std::string to_json_text(const nlohmann::json& totals) const;
  // Each open session's record as one line of JSON text, by id (the end of --stats-json).
  void write_open(const std::function<void(const std::string&)>& out) const;
  nlohmann::json totals_json() const;
  // One line of totals, for SIGUSR1.
  std::string totals_line() const;
  // The -v line of a record ("tcp #3 10.77.0.1:40000 -> 10.81.0.2:80 via direct: closed ...").
  static std::string describe(const SessionRecord& r, const std::string& detail = "");

 private:
  struct Open {
    SessionRecord record;   // upstream empty unless a relay set it (then it wins)
    uint16_t upstream = 0;  // in names_
  };
  // An ended session, compact: the words are indices into names_, the two rare strings one.
  struct Ended {
    uint64_t id = 0;
    Endpoint client;
    Endpoint destination;
    uint64_t bytes_up = 0;
    uint64_t bytes_down = 0;
    double started_s = 0;
    double duration_s = 0;
    std::optional<TcpSummary> tcp;
    std::string domain_and_error;  // domain + '\n' + error (both usually empty)
    uint16_t upstream = 0;
    uint16_t end = 0;
    bool udp = false;
  };
  uint16_t intern(std::string name);
  std::vector<const Open*> open_by_id() const;
  nlohmann::json open_json(const Open& o, double now) const;
  nlohmann::json ended_json(const Ended& e) const;

  std::function<double()> now_s_;
  std::function<void(const std::string&)> log_line_;
  std::function<void(const std::string&)> ended_writer_;
  size_t keep_ended_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Open> open_;
  std::deque<Ended> ended_;
  // Upstream names and end words, each once (a handful: "direct", "socks5 HOST:PORT",
  // "closed", "refused", ...).
  std::vector<std::string> names_;
  size_t open_tcp_ = 0;
  // Totals over every session, ended or not.
  uint64_t tcp_total_ = 0;
  uint64_t udp_total_ = 0;
  uint64_t ended_bytes_up_ = 0;
  uint64_t ended_bytes_down_ = 0;
  std::map<std::string, uint64_t> ends_;  // how sessions ended, by SessionRecord::end's word
};

}  // namespace utcp::proxy
