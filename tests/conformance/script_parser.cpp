// SPDX-License-Identifier: BSD-2-Clause
// The packetdrill script language, line by line: comments, option lines, and events made of a
// time specification followed by a packet (`<`/`>`) or a socket call.
#include "script_parser.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>

namespace utcp::drill {

namespace {

struct Failure {
  std::string message;
};

// A cursor over one line.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool done() {
    ws();
    return i_ >= s_.size();
  }
  char peek() {
    ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  bool starts(std::string_view t) {
    ws();
    return s_.substr(i_).starts_with(t);
  }
  bool eat(std::string_view t) {
    if (!starts(t)) return false;
    i_ += t.size();
    return true;
  }
  void expect(std::string_view t) {
    if (!eat(t)) fail("expected '" + std::string(t) + "'");
  }
  [[noreturn]] void fail(const std::string& what) {
    throw Failure{what + " at '" + std::string(rest()) + "'"};
  }
  std::string_view rest() {
    ws();
    return s_.substr(i_);
  }
  std::string word() {
    ws();
    size_t j = i_;
    while (j < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '_')) ++j;
    if (j == i_) fail("expected a name");
    std::string w(s_.substr(i_, j - i_));
    i_ = j;
    return w;
  }
  // The next character without skipping white space ('\0' at the end).
  char raw() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void advance() { ++i_; }
  bool at_word() {
    const char c = peek();
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
  }
  int64_t integer() {
    ws();
    bool neg = false;
    if (i_ < s_.size() && s_[i_] == '-') {
      neg = true;
      ++i_;
    }
    int base = 10;
    if (s_.substr(i_).starts_with("0x") || s_.substr(i_).starts_with("0X")) {
      base = 16;
      i_ += 2;
    }
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s_.data() + i_, s_.data() + s_.size(), v, base);
    if (ec != std::errc()) fail("expected a number");
    i_ = static_cast<size_t>(p - s_.data());
    return neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  }
  uint32_t u32() {
    const int64_t v = integer();
    if (v < 0 || v > 0xffffffffLL) fail("number out of range");
    return static_cast<uint32_t>(v);
  }
  // Seconds with an optional fraction ("1", "0.100", ".3") as microseconds.
  int64_t seconds() {
    ws();
    size_t j = i_;
    int64_t whole = 0;
    bool any = false;
    while (j < s_.size() && std::isdigit(static_cast<unsigned char>(s_[j]))) {
      whole = whole * 10 + (s_[j++] - '0');
      any = true;
    }
    int64_t frac = 0;
    int digits = 0;
    // A '.' followed by a digit is a fraction; "..." is the blocking marker.
    if (j + 1 < s_.size() && s_[j] == '.' && std::isdigit(static_cast<unsigned char>(s_[j + 1]))) {
      ++j;
      while (j < s_.size() && std::isdigit(static_cast<unsigned char>(s_[j]))) {
        if (digits < 6) {
          frac = frac * 10 + (s_[j] - '0');
          ++digits;
        }
        ++j;
        any = true;
      }
    }
    if (!any) fail("expected a time");
    while (digits < 6) {
      frac *= 10;
      ++digits;
    }
    i_ = j;
    return whole * 1'000'000 + frac;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

TimeSpec parse_time(Cursor& c) {
  TimeSpec t;
  if (c.eat("*")) {
    t.kind = TimeSpec::Kind::kAny;
    return t;
  }
  t.kind = c.eat("+") ? TimeSpec::Kind::kRelative : TimeSpec::Kind::kAbsolute;
  t.start_usecs = c.seconds();
  if (c.eat("~")) {
    t.range_end_relative = c.eat("+");
    if (t.kind == TimeSpec::Kind::kRelative && !t.range_end_relative) {
      c.fail("a relative range is written +a~+b");
    }
    t.range_end_usecs = c.seconds();
  } else if (c.eat("...")) {
    c.eat("+");
    t.blocking_end_usecs = c.seconds();
  }
  return t;
}

uint8_t parse_flags(Cursor& c) {
  uint8_t flags = 0;
  c.ws();
  bool any = false;
  for (;;) {
    uint8_t bit = 0;
    switch (c.raw()) {
      case 'F':
        bit = 0x01;
        break;
      case 'S':
        bit = 0x02;
        break;
      case 'R':
        bit = 0x04;
        break;
      case 'P':
        bit = 0x08;
        break;
      case '.':
        bit = 0x10;
        break;
      case 'U':
        bit = 0x20;
        break;
      case 'E':
        bit = 0x40;
        break;
      case 'W':
        bit = 0x80;
        break;
      default:
        break;
    }
    if (!bit) break;
    flags |= bit;
    any = true;
    c.advance();
  }
  if (!any) c.fail("expected TCP flags (S F R P . E W U)");
  return flags;
}

std::vector<TcpOptionSpec> parse_options(Cursor& c, bool& any) {
  std::vector<TcpOptionSpec> out;
  c.expect("<");
  if (c.eat("...")) {
    any = true;
    c.expect(">");
    return out;
  }
  for (;;) {
    TcpOptionSpec o;
    const std::string w = c.word();
    if (w == "mss") {
      o.kind = TcpOptionSpec::Kind::kMss;
      o.a = c.u32();
    } else if (w == "nop") {
      o.kind = TcpOptionSpec::Kind::kNop;
    } else if (w == "eol") {
      o.kind = TcpOptionSpec::Kind::kEol;
    } else if (w == "wscale") {
      o.kind = TcpOptionSpec::Kind::kWscale;
      o.a = c.u32();
    } else if (w == "sackOK") {
      o.kind = TcpOptionSpec::Kind::kSackOk;
    } else if (w == "sack") {
      o.kind = TcpOptionSpec::Kind::kSack;
      while (std::isdigit(static_cast<unsigned char>(c.peek()))) {
        const uint32_t l = c.u32();
        c.expect(":");
        o.sacks.emplace_back(l, c.u32());
      }
      if (o.sacks.empty()) c.fail("sack needs blocks a:b");
    } else if (w == "TS") {
      o.kind = TcpOptionSpec::Kind::kTimestamp;
      if (c.word() != "val") c.fail("expected 'val'");
      o.a = c.u32();
      if (c.word() != "ecr") c.fail("expected 'ecr'");
      o.b = c.u32();
    } else {
      c.fail("unsupported TCP option '" + w + "'");
    }
    out.push_back(o);
    if (c.eat(">")) return out;
    c.expect(",");
  }
}

void parse_seq_range(Cursor& c, uint32_t& seq, uint32_t& end, uint32_t& len) {
  seq = c.u32();
  c.expect(":");
  end = c.u32();
  c.expect("(");
  len = c.u32();
  c.expect(")");
  if (static_cast<uint32_t>(end - seq) != len) c.fail("seq:end(len) is inconsistent");
}

// packetdrill's names: ICMP (RFC 792) for IPv4 runs, ICMPv6 (RFC 4443 §3) for IPv6 runs.
struct IcmpName {
  std::string_view type, code;  // code "" when the line names none
  int v4_type, v4_code;         // -1: no IPv4 form
  int v6_type, v6_code;         // -1: no ICMPv6 form
};
constexpr IcmpName kIcmpNames[] = {
    {"unreachable", "net_unreachable", 3, 0, -1, 0},
    {"unreachable", "host_unreachable", 3, 1, -1, 0},
    {"unreachable", "protocol_unreachable", 3, 2, -1, 0},
    {"unreachable", "port_unreachable", 3, 3, 1, 4},
    {"unreachable", "frag_needed", 3, 4, -1, 0},
    {"unreachable", "source_route_failed", 3, 5, -1, 0},
    {"unreachable", "net_unknown", 3, 6, -1, 0},
    {"unreachable", "host_unknown", 3, 7, -1, 0},
    {"unreachable", "net_prohibited", 3, 9, -1, 0},
    {"unreachable", "host_prohibited", 3, 10, -1, 0},
    {"unreachable", "admin_prohibited", 3, 13, 1, 1},
    {"unreachable", "no_route", -1, 0, 1, 0},
    {"unreachable", "not_neighbour", -1, 0, 1, 2},
    {"unreachable", "address_unreachable", -1, 0, 1, 3},
    // No code means 0 (TTL / hop limit exceeded in transit), as in packetdrill.
    {"time_exceeded", "", 11, 0, 3, 0},
    {"time_exceeded", "ttl_exceeded", 11, 0, -1, 0},
    {"time_exceeded", "reassembly_time_exceeded", 11, 1, -1, 0},
    {"time_exceeded", "exceeded_hop_limit", -1, 0, 3, 0},
    {"time_exceeded", "exceeded_frag_time", -1, 0, 3, 1},
    {"packet_too_big", "", -1, 0, 2, 0},
    {"parameter_problem", "header_field", -1, 0, 4, 0},
    {"parameter_problem", "unknown_next_header", -1, 0, 4, 1},
    {"parameter_problem", "unknown_option", -1, 0, 4, 2},
};

PacketSpec parse_icmp(Cursor& c, char dir) {
  PacketSpec p;
  p.direction = dir;
  p.icmp = true;
  if (dir != '<') c.fail("only injected ICMP is supported");
  const std::string type = c.word();
  bool known_type = false;
  for (const IcmpName& n : kIcmpNames) known_type = known_type || n.type == type;
  if (!known_type) c.fail("unsupported ICMP type '" + type + "'");
  std::string code;
  if (c.peek() != '[' && c.at_word()) {
    code = c.word();
    if (code == "mtu") {  // no code: "packet_too_big mtu 1280"
      code.clear();
      p.icmp_mtu = c.u32();
    }
  }
  const IcmpName* found = nullptr;
  for (const IcmpName& n : kIcmpNames) {
    if (n.type == type && n.code == code) found = &n;
  }
  if (!found) {
    c.fail(code.empty() ? "ICMP " + type + " needs a code"
                        : "unknown ICMP " + type + " code '" + code + "'");
  }
  p.icmp4 = found->v4_type >= 0;
  p.icmp_type = static_cast<uint8_t>(std::max(found->v4_type, 0));
  p.icmp_code = static_cast<uint8_t>(found->v4_code);
  p.icmp6 = found->v6_type >= 0;
  p.icmp6_type = static_cast<uint8_t>(std::max(found->v6_type, 0));
  p.icmp6_code = static_cast<uint8_t>(found->v6_code);
  if (!p.icmp_mtu && c.at_word()) {
    if (c.word() != "mtu") c.fail("expected 'mtu'");
    p.icmp_mtu = c.u32();
  }
  c.expect("[");
  parse_seq_range(c, p.seq, p.end_seq, p.len);
  c.expect("]");
  return p;
}

PacketSpec parse_packet(Cursor& c) {
  const char dir = c.peek();
  c.eat(std::string_view(&dir, 1));
  if (c.starts("icmp")) {
    c.word();
    return parse_icmp(c, dir);
  }
  PacketSpec p;
  p.direction = dir;
  p.flags = parse_flags(c);
  parse_seq_range(c, p.seq, p.end_seq, p.len);
  while (!c.done()) {
    if (c.peek() == '<') {
      p.options = parse_options(c, p.any_options);
      continue;
    }
    const std::string w = c.word();
    if (w == "ack") {
      p.ack = c.u32();
    } else if (w == "win") {
      p.win = c.u32();
      if (*p.win > 0xffff) c.fail("win is a 16-bit field");
    } else if (w == "urg") {
      p.urg = c.u32();
    } else {
      c.fail("unexpected '" + w + "' in a packet line");
    }
  }
  if (dir == '<' && p.any_options) c.fail("an injected packet cannot have <...> options");
  return p;
}

Expr parse_expr(Cursor& c);

Expr parse_term(Cursor& c) {
  Expr e;
  if (c.eat("...")) {
    e.kind = Expr::Kind::kEllipsis;
    return e;
  }
  if (c.eat("[")) {
    e.kind = Expr::Kind::kList;
    if (c.eat("]")) return e;
    for (;;) {
      e.items.push_back(parse_expr(c));
      if (c.eat("]")) return e;
      c.expect(",");
    }
  }
  if (c.eat("{")) {
    e.kind = Expr::Kind::kStruct;
    if (c.eat("}")) return e;
    for (;;) {
      std::string name;
      if (c.at_word()) {
        Cursor probe = c;
        probe.word();
        if (probe.peek() == '=') {
          name = c.word();
          c.expect("=");
        }
      }
      e.names.push_back(name);
      e.items.push_back(parse_expr(c));
      if (c.eat("}")) return e;
      c.expect(",");
    }
  }
  if (c.eat("\"")) {
    e.kind = Expr::Kind::kString;
    std::string_view r = c.rest();
    const size_t q = r.find('"');
    if (q == std::string_view::npos) c.fail("unterminated string");
    e.text = std::string(r.substr(0, q));
    c.eat(r.substr(0, q + 1));
    return e;
  }
  if (c.at_word()) {
    e.kind = Expr::Kind::kName;
    e.text = c.word();
    return e;
  }
  e.kind = Expr::Kind::kInt;
  e.value = c.integer();
  return e;
}

Expr parse_expr(Cursor& c) {
  Expr first = parse_term(c);
  if (c.peek() != '|') return first;
  Expr e;
  e.kind = Expr::Kind::kOr;
  e.items.push_back(std::move(first));
  while (c.eat("|")) e.items.push_back(parse_term(c));
  return e;
}

SyscallSpec parse_syscall(Cursor& c) {
  SyscallSpec s;
  s.name = c.word();
  c.expect("(");
  if (!c.eat(")")) {
    for (;;) {
      s.args.push_back(parse_expr(c));
      if (c.eat(")")) break;
      c.expect(",");
    }
  }
  c.expect("=");
  if (c.eat("...")) {
    s.ret.kind = Expr::Kind::kEllipsis;
  } else {
    s.ret.kind = Expr::Kind::kInt;
    s.ret.value = c.integer();
  }
  if (c.at_word()) {
    s.errno_name = c.word();
    if (!errno_value(s.errno_name)) c.fail("unknown errno '" + s.errno_name + "'");
    if (c.eat("(")) {
      // The errno's text is free-form; skip to the closing parenthesis.
      std::string_view r = c.rest();
      const size_t close = r.find(')');
      if (close == std::string_view::npos) c.fail("unterminated errno text");
      c.eat(r.substr(0, close + 1));
    }
  }
  if (!c.done()) c.fail("trailing text");
  return s;
}

std::string substitute(std::string_view text, const std::map<std::string, std::string>& defines) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
      continue;
    }
    size_t j = i + 1;
    const bool braced = j < text.size() && text[j] == '{';
    if (braced) ++j;
    size_t k = j;
    while (k < text.size() && (std::isalnum(static_cast<unsigned char>(text[k])) || text[k] == '_'))
      ++k;
    const std::string name(text.substr(j, k - j));
    auto it = defines.find(name);
    if (name.empty() || it == defines.end() || (braced && (k >= text.size() || text[k] != '}'))) {
      out += text[i];
      continue;
    }
    out += it->second;
    i = braced ? k : k - 1;
  }
  return out;
}

// Blanks out comments, keeping line breaks so line numbers stay right.
std::string strip_comments(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.substr(i).starts_with("/*")) {
      const size_t end = text.find("*/", i + 2);
      const size_t stop = end == std::string_view::npos ? text.size() : end + 2;
      for (size_t k = i; k < stop; ++k) out += text[k] == '\n' ? '\n' : ' ';
      i = stop - 1;
    } else if (text.substr(i).starts_with("//")) {
      while (i < text.size() && text[i] != '\n') ++i;
      if (i < text.size()) out += '\n';
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

ParseResult parse_script(std::string_view text, const std::string& path,
                         const std::map<std::string, std::string>& defines) {
  ParseResult result;
  Script script;
  script.path = path;
  const std::string clean = substitute(strip_comments(text), defines);
  std::istringstream in(clean);
  std::string line;
  int lineno = 0;
  bool in_code_block = false;
  while (std::getline(in, line)) {
    ++lineno;
    std::string_view v(line);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    if (in_code_block) {
      if (v.find("}%") != std::string_view::npos) in_code_block = false;
      continue;
    }
    if (v.empty()) continue;
    if (v.find("%{") != std::string_view::npos) {
      if (script.unsupported.empty()) {
        script.unsupported = "line " + std::to_string(lineno) + ": %{ }% code blocks";
      }
      if (v.find("}%") == std::string_view::npos) in_code_block = true;
      continue;
    }
    if (v.find('`') != std::string_view::npos) {
      if (script.unsupported.empty()) {
        script.unsupported = "line " + std::to_string(lineno) + ": shell commands";
      }
      continue;
    }
    if (v.starts_with("--")) {
      v.remove_prefix(2);
      const size_t eq = v.find('=');
      std::string_view value = eq == std::string_view::npos ? "" : v.substr(eq + 1);
      // packetdrill needs quotes around a value with '=' in it: --so_flags="recv_buffer=4000"
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      script.options.emplace_back(std::string(v.substr(0, eq)), std::string(value));
      continue;
    }
    try {
      Cursor c(v);
      Event ev;
      ev.line = lineno;
      ev.text = std::string(v);
      ev.time = parse_time(c);
      const char k = c.peek();
      if (k == '<' || k == '>') {
        ev.is_packet = true;
        ev.packet = parse_packet(c);
        if (ev.time.blocking_end_usecs) c.fail("only socket calls can block (a...b)");
      } else {
        ev.call = parse_syscall(c);
      }
      script.events.push_back(std::move(ev));
    } catch (const Failure& f) {
      result.error = path + ":" + std::to_string(lineno) + ": " + f.message;
      return result;
    }
  }
  if (in_code_block) {
    result.error = path + ": unterminated %{ block";
    return result;
  }
  result.script = std::move(script);
  return result;
}

}  // namespace utcp::drill
