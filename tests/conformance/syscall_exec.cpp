// SPDX-License-Identifier: BSD-2-Clause
#include "syscall_exec.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "script_parser.hpp"
#include "utcp/posix.hpp"

namespace utcp::drill {

namespace {

struct BadArgs {
  std::string what;
};

int64_t eval_int(const Expr& e, int64_t dflt = 0) {
  switch (e.kind) {
    case Expr::Kind::kInt:
      return e.value;
    case Expr::Kind::kEllipsis:
      return dflt;
    case Expr::Kind::kName: {
      auto v = lookup_constant(e.text);
      if (!v) {
        if (auto err = errno_value(e.text)) return *err;  // SO_ERROR values: [ECONNREFUSED]
      }
      if (!v) throw BadArgs{"unknown name '" + e.text + "'"};
      return *v;
    }
    case Expr::Kind::kOr: {
      int64_t v = 0;
      for (const Expr& t : e.items) v |= eval_int(t);
      return v;
    }
    case Expr::Kind::kList:
      if (e.items.size() == 1) return eval_int(e.items[0], dflt);
      break;
    default:
      break;
  }
  throw BadArgs{"expected a number"};
}

// `NULL` where a call takes a pointer (buffer, iovec array or base, option value, ioctl
// argument, poll list): the call gets a null pointer, for EFAULT checks.
bool is_null(const Expr& e) {
  return e.kind == Expr::Kind::kName && e.text == "NULL";
}

const Expr& arg(const SyscallSpec& c, size_t i) {
  if (i >= c.args.size()) throw BadArgs{c.name + " needs " + std::to_string(i + 1) + " arguments"};
  return c.args[i];
}

int live_fd(const CallContext& ctx, int64_t script_fd) {
  const int fd = static_cast<int>(script_fd);
  return ctx.fds ? ctx.fds->live(fd) : fd;
}

// The descriptor a call names first.
int fd_arg(const SyscallSpec& c, const CallContext& ctx) {
  return live_fd(ctx, eval_int(arg(c, 0)));
}

// A call that creates a descriptor: the script's `= N` now names what it returned.
void learn_fd(const SyscallSpec& c, const CallContext& ctx, CallResult& r) {
  if (!ctx.fds || r.ret < 0 || c.ret.kind != Expr::Kind::kInt || c.ret.value < 0) return;
  ctx.fds->learn(static_cast<int>(c.ret.value), static_cast<int>(r.ret));
  r.ret = c.ret.value;
}

// A sockaddr_in, or a sockaddr_in6 for an AF_INET6 socket (IPv4 as ::ffff:a.b.c.d).
struct SockAddrBuf {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

SockAddrBuf make_addr(int domain, const IpAddr& a, uint16_t port) {
  SockAddrBuf b;
  if (domain == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&b.ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(in6->sin6_addr.s6_addr, a.v6().bytes.data(), 16);
    b.len = sizeof *in6;
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&b.ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(a.v4().value);
    b.len = sizeof *in;
  }
  return b;
}

// Whether accept() named the peer `want` the way a socket of `domain` does.
bool names(int domain, const sockaddr_storage& got, const IpAddr& want) {
  if (domain == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&got);
    return in6->sin6_family == AF_INET6 &&
           std::memcmp(in6->sin6_addr.s6_addr, want.v6().bytes.data(), 16) == 0;
  }
  const auto* in = reinterpret_cast<const sockaddr_in*>(&got);
  return in->sin_family == AF_INET && ntohl(in->sin_addr.s_addr) == want.v4().value;
}

// A struct expression's field by name (or position when unnamed).
const Expr* field(const Expr& s, const std::string& name, size_t pos) {
  for (size_t i = 0; i < s.items.size(); ++i) {
    if (s.names[i] == name) return &s.items[i];
  }
  if (pos < s.items.size() && s.names[pos].empty()) return &s.items[pos];
  return nullptr;
}

std::vector<iovec> make_iov(const Expr& list, std::vector<std::vector<uint8_t>>& store) {
  if (list.kind != Expr::Kind::kList) throw BadArgs{"expected an iovec list [{..., len}]"};
  std::vector<iovec> iov;
  for (const Expr& item : list.items) {
    if (item.kind != Expr::Kind::kStruct) throw BadArgs{"expected {..., len} in the iovec list"};
    const Expr* len = field(item, "iov_len", 1);
    if (!len) throw BadArgs{"iovec without a length"};
    store.emplace_back(static_cast<size_t>(eval_int(*len)), uint8_t{'x'});
    const Expr* base = field(item, "iov_base", 0);
    iov.push_back({base && is_null(*base) ? nullptr : store.back().data(), store.back().size()});
  }
  return iov;
}

CallResult run(const SyscallSpec& c, const CallContext& ctx) {
  const packetdrill_interface& f = *ctx.ifc;
  void* ud = f.userdata;
  CallResult r;
  errno = 0;
  const std::string& n = c.name;
  if (n == "socket") {
    r.ret = f.socket(ud, static_cast<int>(eval_int(arg(c, 0), ctx.domain)),
                     static_cast<int>(eval_int(arg(c, 1), SOCK_STREAM)),
                     static_cast<int>(eval_int(arg(c, 2), IPPROTO_TCP)));
    learn_fd(c, ctx, r);
  } else if (n == "bind") {
    const SockAddrBuf a = make_addr(ctx.domain, ctx.local_ip, ctx.bind_port);
    r.ret = f.bind(ud, fd_arg(c, ctx), a.get(), a.len);
  } else if (n == "listen") {
    r.ret = f.listen(ud, fd_arg(c, ctx), static_cast<int>(eval_int(arg(c, 1), 1)));
  } else if (n == "accept") {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    r.ret = f.accept(ud, fd_arg(c, ctx), reinterpret_cast<sockaddr*>(&a), &len);
    if (r.ret >= 0 && !names(ctx.domain, a, ctx.remote_ip)) {
      r.mismatch = "accept() did not fill in the peer address";
    }
    learn_fd(c, ctx, r);
  } else if (n == "connect") {
    const SockAddrBuf a = make_addr(ctx.domain, ctx.remote_ip, ctx.connect_port);
    r.ret = f.connect(ud, fd_arg(c, ctx), a.get(), a.len);
  } else if (n == "read" || n == "recv") {
    std::vector<uint8_t> buf(static_cast<size_t>(eval_int(arg(c, 2))));
    uint8_t* p = is_null(arg(c, 1)) ? nullptr : buf.data();
    r.ret = n == "read" ? f.read(ud, fd_arg(c, ctx), p, buf.size())
                        : f.recv(ud, fd_arg(c, ctx), p, buf.size(),
                                 static_cast<int>(c.args.size() > 3 ? eval_int(c.args[3]) : 0));
  } else if (n == "write" || n == "send") {
    std::vector<uint8_t> buf(static_cast<size_t>(eval_int(arg(c, 2))), uint8_t{'x'});
    const uint8_t* p = is_null(arg(c, 1)) ? nullptr : buf.data();
    r.ret = n == "write" ? f.write(ud, fd_arg(c, ctx), p, buf.size())
                         : f.send(ud, fd_arg(c, ctx), p, buf.size(),
                                  static_cast<int>(c.args.size() > 3 ? eval_int(c.args[3]) : 0));
  } else if (n == "sendto") {
    std::vector<uint8_t> buf(static_cast<size_t>(eval_int(arg(c, 2))), uint8_t{'x'});
    r.ret = f.sendto(ud, fd_arg(c, ctx), is_null(arg(c, 1)) ? nullptr : buf.data(), buf.size(),
                     static_cast<int>(c.args.size() > 3 ? eval_int(c.args[3]) : 0), nullptr, 0);
  } else if (n == "recvfrom") {
    std::vector<uint8_t> buf(static_cast<size_t>(eval_int(arg(c, 2))));
    r.ret =
        f.recvfrom(ud, fd_arg(c, ctx), is_null(arg(c, 1)) ? nullptr : buf.data(), buf.size(),
                   static_cast<int>(c.args.size() > 3 ? eval_int(c.args[3]) : 0), nullptr, nullptr);
  } else if (n == "readv" || n == "writev") {
    std::vector<std::vector<uint8_t>> store;
    const bool null_iov = is_null(arg(c, 1));
    std::vector<iovec> iov = null_iov ? std::vector<iovec>{} : make_iov(arg(c, 1), store);
    const int cnt = static_cast<int>(eval_int(arg(c, 2), static_cast<int64_t>(iov.size())));
    const iovec* p = null_iov ? nullptr : iov.data();
    r.ret =
        n == "readv" ? f.readv(ud, fd_arg(c, ctx), p, cnt) : f.writev(ud, fd_arg(c, ctx), p, cnt);
  } else if (n == "close") {
    r.ret = f.close(ud, fd_arg(c, ctx));
  } else if (n == "shutdown") {
    r.ret = f.shutdown(ud, fd_arg(c, ctx), static_cast<int>(eval_int(arg(c, 1))));
  } else if (n == "fcntl") {
    const int cmd = static_cast<int>(eval_int(arg(c, 1)));
    if (c.args.size() > 2) {
      r.ret = f.fcntl(ud, fd_arg(c, ctx), cmd, static_cast<int>(eval_int(c.args[2])));
    } else {
      r.ret = f.fcntl(ud, fd_arg(c, ctx), cmd);
    }
  } else if (n == "ioctl") {
    // FIONBIO takes its [N]; every other request answers one int, checked against [N].
    const auto request = static_cast<unsigned long>(eval_int(arg(c, 1)));
    const bool null_arg = c.args.size() > 2 && is_null(c.args[2]);
    const bool has_val = c.args.size() > 2 && c.args[2].kind != Expr::Kind::kEllipsis && !null_arg;
    const int want = has_val ? static_cast<int>(eval_int(c.args[2])) : 0;
    int v = request == FIONBIO ? want : -1;
    r.ret = f.ioctl(ud, fd_arg(c, ctx), request, null_arg ? nullptr : &v);
    if (r.ret == 0 && request != FIONBIO && has_val && v != want) {
      r.mismatch = "ioctl answered " + std::to_string(v) + ", expected " + std::to_string(want);
    }
  } else if (n == "setsockopt") {
    const int level = static_cast<int>(eval_int(arg(c, 1)));
    const int name = static_cast<int>(eval_int(arg(c, 2)));
    const Expr& val = arg(c, 3);
    if (is_null(val)) {
      r.ret = f.setsockopt(ud, fd_arg(c, ctx), level, name, nullptr,
                           static_cast<socklen_t>(eval_int(arg(c, 4), sizeof(int))));
    } else if (val.kind == Expr::Kind::kStruct) {  // {onoff=1, linger=0}
      linger l{};
      const Expr* on = field(val, "onoff", 0);
      if (!on) on = field(val, "l_onoff", 0);
      const Expr* secs = field(val, "linger", 1);
      if (!secs) secs = field(val, "l_linger", 1);
      if (!on || !secs) throw BadArgs{"linger needs {onoff=N, linger=N}"};
      l.l_onoff = static_cast<int>(eval_int(*on));
      l.l_linger = static_cast<int>(eval_int(*secs));
      r.ret = f.setsockopt(ud, fd_arg(c, ctx), level, name, &l,
                           static_cast<socklen_t>(eval_int(arg(c, 4), sizeof l)));
    } else {
      const int v = static_cast<int>(eval_int(val));
      r.ret = f.setsockopt(ud, fd_arg(c, ctx), level, name, &v,
                           static_cast<socklen_t>(eval_int(arg(c, 4), sizeof v)));
    }
  } else if (n == "getsockopt") {
    const int level = static_cast<int>(eval_int(arg(c, 1)));
    const int name = static_cast<int>(eval_int(arg(c, 2)));
    const Expr& want = arg(c, 3);
    if (is_null(want)) {
      socklen_t len = static_cast<socklen_t>(c.args.size() > 4 ? eval_int(c.args[4]) : 4);
      r.ret = f.getsockopt(ud, fd_arg(c, ctx), level, name, nullptr, &len);
    } else if (level == IPPROTO_TCP && name == TCP_INFO) {
      posix::TcpInfo info{};
      socklen_t len = sizeof info;
      r.ret = f.getsockopt(ud, fd_arg(c, ctx), level, name, &info, &len);
      if (r.ret == 0 && want.kind == Expr::Kind::kStruct) {
        const Expr* st = field(want, "tcpi_state", 99);
        if (st && st->kind != Expr::Kind::kEllipsis && info.tcpi_state != eval_int(*st)) {
          r.mismatch = "tcpi_state is " + std::to_string(info.tcpi_state) + ", expected " +
                       std::to_string(eval_int(*st));
        }
      }
    } else if (level == SOL_SOCKET && name == SO_LINGER) {
      linger l{};
      socklen_t len = sizeof l;
      r.ret = f.getsockopt(ud, fd_arg(c, ctx), level, name, &l, &len);
      if (r.ret == 0 && want.kind == Expr::Kind::kStruct) {
        const Expr* on = field(want, "onoff", 0);
        const Expr* secs = field(want, "linger", 1);
        if ((on && l.l_onoff != eval_int(*on)) || (secs && l.l_linger != eval_int(*secs))) {
          r.mismatch = "linger is {onoff=" + std::to_string(l.l_onoff) +
                       ", linger=" + std::to_string(l.l_linger) + "}";
        }
      }
    } else {
      int v = 0;
      socklen_t len = sizeof v;
      r.ret = f.getsockopt(ud, fd_arg(c, ctx), level, name, &v, &len);
      if (r.ret == 0 && want.kind != Expr::Kind::kEllipsis && v != eval_int(want)) {
        r.mismatch =
            "option value is " + std::to_string(v) + ", expected " + std::to_string(eval_int(want));
      }
    }
  } else if (n == "poll") {
    const Expr& list = arg(c, 0);
    if (is_null(list)) {
      r.ret = f.poll(ud, nullptr, static_cast<nfds_t>(eval_int(arg(c, 1))),
                     static_cast<int>(eval_int(arg(c, 2))));
      r.err = r.ret < 0 ? errno : 0;
      return r;
    }
    if (list.kind != Expr::Kind::kList)
      throw BadArgs{"poll needs [{fd=N, events=..., revents=...}]"};
    std::vector<pollfd> fds;
    for (const Expr& item : list.items) {
      if (item.kind != Expr::Kind::kStruct) throw BadArgs{"poll needs {fd=N, events=...}"};
      const Expr* fd = field(item, "fd", 0);
      const Expr* ev = field(item, "events", 1);
      if (!fd || !ev) throw BadArgs{"poll entries need fd and events"};
      fds.push_back({live_fd(ctx, eval_int(*fd)), static_cast<short>(eval_int(*ev)), 0});
    }
    r.ret = f.poll(ud, fds.data(), fds.size(), static_cast<int>(eval_int(arg(c, 2))));
    for (size_t i = 0; i < fds.size() && r.ret >= 0; ++i) {
      const Expr* rev = field(list.items[i], "revents", 2);
      if (rev && rev->kind != Expr::Kind::kEllipsis && fds[i].revents != eval_int(*rev)) {
        const Expr* fd = field(list.items[i], "fd", 0);
        r.mismatch = "revents of fd " + std::to_string(eval_int(*fd)) + " is 0x" +
                     [](int v) {
                       char b[16];
                       std::snprintf(b, sizeof b, "%x", v);
                       return std::string(b);
                     }(fds[i].revents) +
                     ", expected 0x" + [](int v) {
                       char b[16];
                       std::snprintf(b, sizeof b, "%x", v);
                       return std::string(b);
                     }(static_cast<int>(eval_int(*rev)));
      }
    }
  } else {
    throw BadArgs{"unsupported call '" + n + "'"};
  }
  r.err = r.ret < 0 ? errno : 0;
  return r;
}

}  // namespace

CallResult execute_call(const SyscallSpec& call, const CallContext& ctx) {
  try {
    return run(call, ctx);
  } catch (const BadArgs& b) {
    CallResult r;
    r.ret = -2;
    r.mismatch = "bad call: " + b.what;
    return r;
  }
}

}  // namespace utcp::drill
