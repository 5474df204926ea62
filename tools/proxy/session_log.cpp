// SPDX-License-Identifier: BSD-2-Clause
#include "session_log.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <vector>

#include "common_options.hpp"

namespace utcp::proxy {

TcpSummary TcpSummary::from(const tcp::TcpInfo& i) {
  TcpSummary t;
  t.snd_mss = i.snd_mss;
  t.cwnd = i.cwnd;
  t.srtt_us = i.srtt_us;
  t.min_rtt_us = i.min_rtt_us;
  t.total_retrans = i.total_retrans;
  t.segs_in = i.segs_in;
  t.segs_out = i.segs_out;
  t.bytes_sent = i.bytes_sent;
  t.bytes_received = i.bytes_received;
  t.sack = i.sack_enabled;
  t.timestamps = i.ts_enabled;
  return t;
}

SessionLog::SessionLog(std::function<double()> now_s,
                       std::function<void(const std::string&)> log_line, size_t keep_ended)
    : now_s_(std::move(now_s)), log_line_(std::move(log_line)), keep_ended_(keep_ended) {}

uint16_t SessionLog::intern(std::string name) {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<uint16_t>(i);
  }
  // The words come from the program, not from the network; a bound all the same.
  if (names_.size() == UINT16_MAX) return UINT16_MAX - 1;
  names_.push_back(std::move(name));
  return static_cast<uint16_t>(names_.size() - 1);
}

uint64_t SessionLog::open(SessionRecord record) {
  record.id = next_id_++;
  record.started_s = now_s_();
  record.end.clear();
  (record.udp ? udp_total_ : tcp_total_)++;
  if (!record.udp) ++open_tcp_;
  const uint64_t id = record.id;
  const uint16_t upstream = intern(std::move(record.upstream));
  record.upstream = std::string();  // the name lives in names_, once
  open_.emplace(id, Open{std::move(record), upstream});
  return id;
}

SessionRecord* SessionLog::find(uint64_t id) {
  const auto it = open_.find(id);
  return it == open_.end() ? nullptr : &it->second.record;
}

void SessionLog::close(uint64_t id, std::string why, std::string detail,
                       const std::optional<TcpSummary>& tcp) {
  const auto it = open_.find(id);
  if (it == open_.end()) return;
  SessionRecord& r = it->second.record;
  r.end = why.empty() ? "closed" : std::move(why);
  r.duration_s = now_s_() - r.started_s;
  if (r.upstream.empty()) r.upstream = names_[it->second.upstream];
  if (!r.udp) --open_tcp_;
  ended_bytes_up_ += r.bytes_up;
  ended_bytes_down_ += r.bytes_down;
  ++ends_[r.end];
  if (log_line_) log_line_(describe(r, detail));
  Ended e;
  e.id = r.id;
  e.client = r.client;
  e.destination = r.destination;
  e.bytes_up = r.bytes_up;
  e.bytes_down = r.bytes_down;
  e.started_s = r.started_s;
  e.duration_s = r.duration_s;
  e.tcp = tcp;
  if (!r.domain.empty() || !detail.empty()) e.domain_and_error = r.domain + '\n' + detail;
  e.upstream = intern(std::move(r.upstream));
  e.end = intern(std::move(r.end));
  e.udp = r.udp;
  open_.erase(it);
  if (ended_writer_) ended_writer_(ended_json(e).dump());
  if (keep_ended_ == 0) return;
  if (ended_.size() >= keep_ended_) ended_.pop_front();
  ended_.push_back(std::move(e));
}

std::string SessionLog::describe(const SessionRecord& r, const std::string& detail) {
  std::string s = std::string(r.udp ? "udp" : "tcp") + " #" + std::to_string(r.id) + " " +
                  tools::format_endpoint(r.client.addr, r.client.port) + " -> " +
                  tools::format_endpoint(r.destination.addr, r.destination.port);
  if (!r.domain.empty()) s += " (" + r.domain + ")";
  s += " via " + r.upstream + ": " + (r.end.empty() ? "open" : r.end);
  char tail[96];
  std::snprintf(tail, sizeof tail, ", up %" PRIu64 " B, down %" PRIu64 " B, %.3f s", r.bytes_up,
                r.bytes_down, r.duration_s);
  s += tail;
  if (!detail.empty()) s += " (" + detail + ")";
  return s;
}

namespace {

nlohmann::json record_json(const SessionRecord& r, const std::string& error,
                           const std::optional<TcpSummary>& tcp) {
  nlohmann::json j = {
      {"id", r.id},
      {"proto", r.udp ? "udp" : "tcp"},
      {"client", tools::format_endpoint(r.client.addr, r.client.port)},
      {"destination", tools::format_endpoint(r.destination.addr, r.destination.port)},
      {"upstream", r.upstream},
      {"bytes_up", r.bytes_up},
      {"bytes_down", r.bytes_down},
      {"started_s", r.started_s},
      {"duration_s", r.duration_s},
      {"end", r.end.empty() ? "open" : r.end},
  };
  if (!r.domain.empty()) j["domain"] = r.domain;
  if (!error.empty()) j["error"] = error;
  if (tcp) {
    const TcpSummary& t = *tcp;
    j["tcp_info"] = {{"snd_mss", t.snd_mss},
                     {"cwnd", t.cwnd},
                     {"srtt_us", t.srtt_us},
                     {"min_rtt_us", t.min_rtt_us},
                     {"total_retrans", t.total_retrans},
                     {"segs_in", t.segs_in},
                     {"segs_out", t.segs_out},
                     {"bytes_sent", t.bytes_sent},
                     {"bytes_received", t.bytes_received},
                     {"sack", t.sack},
                     {"timestamps", t.timestamps}};
  }
  return j;
}

}  // namespace

nlohmann::json SessionLog::open_json(const Open& o, double now) const {
  SessionRecord r = o.record;
  if (r.upstream.empty()) r.upstream = names_[o.upstream];
  r.duration_s = now - r.started_s;
  return record_json(r, "", std::nullopt);
}

nlohmann::json SessionLog::ended_json(const Ended& e) const {
  SessionRecord r;
  r.id = e.id;
  r.udp = e.udp;
  r.client = e.client;
  r.destination = e.destination;
  r.upstream = names_[e.upstream];
  r.bytes_up = e.bytes_up;
  r.bytes_down = e.bytes_down;
  r.started_s = e.started_s;
  r.duration_s = e.duration_s;
  r.end = names_[e.end];
  std::string error;
  if (const size_t cut = e.domain_and_error.find('\n'); cut != std::string::npos) {
    r.domain = e.domain_and_error.substr(0, cut);
    error = e.domain_and_error.substr(cut + 1);
  }
  return record_json(r, error, e.tcp);
}

std::vector<const SessionLog::Open*> SessionLog::open_by_id() const {
  // By id: the map's order is not.
  std::vector<const Open*> live;
  live.reserve(open_.size());
  for (const auto& [id, o] : open_) live.push_back(&o);
  std::sort(live.begin(), live.end(),
            [](const Open* a, const Open* b) { return a->record.id < b->record.id; });
  return live;
}

nlohmann::json SessionLog::totals_json() const {
  uint64_t up = ended_bytes_up_;
  uint64_t down = ended_bytes_down_;
  for (const auto& [id, o] : open_) {
    up += o.record.bytes_up;
    down += o.record.bytes_down;
  }
  nlohmann::json ends = nlohmann::json::object();
  for (const auto& [word, n] : ends_) ends[word] = n;
  return {{"tcp_sessions", tcp_total_},
          {"udp_sessions", udp_total_},
          {"open_tcp", open_tcp_},
          {"open_udp", open_.size() - open_tcp_},
          {"bytes_up", up},
          {"bytes_down", down},
          {"ended", ends},
          {"uptime_s", now_s_()}};
}

nlohmann::json SessionLog::to_json() const {
  nlohmann::json sessions = nlohmann::json::array();
  const double now = now_s_();
  for (const Open* o : open_by_id()) sessions.push_back(open_json(*o, now));
  for (const Ended& e : ended_) sessions.push_back(ended_json(e));
  return {{"sessions", std::move(sessions)}, {"totals", totals_json()}};
}

std::string SessionLog::to_json_text(const nlohmann::json& totals) const {
  std::string out = "{\"sessions\":[";
  bool first = true;
  auto add = [&](const std::string& text) {
    if (!first) out += ',';
    first = false;
    out += text;
  };
  write_open(add);
  for (const Ended& e : ended_) add(ended_json(e).dump());
  out += "],\"totals\":" + totals.dump() + "}";
  return out;
}

void SessionLog::write_open(const std::function<void(const std::string&)>& out) const {
  const double now = now_s_();
  for (const Open* o : open_by_id()) out(open_json(*o, now).dump());
}

std::string SessionLog::totals_line() const {
  const nlohmann::json t = totals_json();
  std::string line = "sessions tcp " + t["tcp_sessions"].dump() + " (open " + t["open_tcp"].dump() +
                     "), udp " + t["udp_sessions"].dump() + " (open " + t["open_udp"].dump() +
                     "), bytes up " + t["bytes_up"].dump() + ", down " + t["bytes_down"].dump();
  for (const auto& [word, n] : ends_) line += ", " + word + " " + std::to_string(n);
  return line;
}

}  // namespace utcp::proxy
