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
                       std::function<void(const std::string&)> log_line, size_t keep_closed)
    : now_s_(std::move(now_s)), log_line_(std::move(log_line)), keep_closed_(keep_closed) {}

uint64_t SessionLog::open(SessionRecord record) {
  record.id = next_id_++;
  record.started_s = now_s_();
  record.end.clear();
  (record.udp ? udp_total_ : tcp_total_)++;
  if (!record.udp) ++open_tcp_;
  const uint64_t id = record.id;
  open_.emplace(id, Entry{std::move(record), std::nullopt});
  return id;
}

SessionRecord* SessionLog::find(uint64_t id) {
  const auto it = open_.find(id);
  return it == open_.end() ? nullptr : &it->second.record;
}

void SessionLog::note_tcp_info(uint64_t id, const tcp::TcpInfo& info) {
  if (const auto it = open_.find(id); it != open_.end()) it->second.tcp = TcpSummary::from(info);
}

void SessionLog::close(uint64_t id, std::string why, std::string detail) {
  const auto it = open_.find(id);
  if (it == open_.end()) return;
  Entry e = std::move(it->second);
  open_.erase(it);
  e.record.end = why.empty() ? "closed" : std::move(why);
  e.detail = std::move(detail);
  e.record.duration_s = now_s_() - e.record.started_s;
  if (!e.record.udp) --open_tcp_;
  ended_bytes_up_ += e.record.bytes_up;
  ended_bytes_down_ += e.record.bytes_down;
  ++ends_[e.record.end];
  if (log_line_) log_line_(describe(e.record, e.detail));
  if (keep_closed_ == 0) return;
  if (closed_.size() == keep_closed_) closed_.pop_front();
  closed_.push_back(std::move(e));
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

nlohmann::json SessionLog::entry_json(const Entry& e) {
  const SessionRecord& r = e.record;
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
  if (!e.detail.empty()) j["error"] = e.detail;
  if (e.tcp) {
    const TcpSummary& t = *e.tcp;
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

nlohmann::json SessionLog::totals_json() const {
  uint64_t up = ended_bytes_up_;
  uint64_t down = ended_bytes_down_;
  for (const auto& [id, e] : open_) {
    up += e.record.bytes_up;
    down += e.record.bytes_down;
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
  // Open sessions by id (the map's order is not), then the ended ones as they ended.
  std::vector<const Entry*> live;
  live.reserve(open_.size());
  for (const auto& [id, e] : open_) live.push_back(&e);
  std::sort(live.begin(), live.end(),
            [](const Entry* a, const Entry* b) { return a->record.id < b->record.id; });
  nlohmann::json sessions = nlohmann::json::array();
  const double now = now_s_();
  for (const Entry* e : live) {
    nlohmann::json j = entry_json(*e);
    j["duration_s"] = now - e->record.started_s;
    sessions.push_back(std::move(j));
  }
  for (const Entry& e : closed_) sessions.push_back(entry_json(e));
  return {{"sessions", std::move(sessions)}, {"totals", totals_json()}};
}

std::string SessionLog::to_json_text(const nlohmann::json& totals) const {
  std::vector<const Entry*> live;
  live.reserve(open_.size());
  for (const auto& [id, e] : open_) live.push_back(&e);
  std::sort(live.begin(), live.end(),
            [](const Entry* a, const Entry* b) { return a->record.id < b->record.id; });
  const double now = now_s_();
  std::string out = "{\"sessions\":[";
  bool first = true;
  auto add = [&](const nlohmann::json& j) {
    if (!first) out += ',';
    first = false;
    out += j.dump();
  };
  for (const Entry* e : live) {
    nlohmann::json j = entry_json(*e);
    j["duration_s"] = now - e->record.started_s;
    add(j);
  }
  for (const Entry& e : closed_) add(entry_json(e));
  out += "],\"totals\":" + totals.dump() + "}";
  return out;
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
