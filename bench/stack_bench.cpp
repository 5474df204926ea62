// SPDX-License-Identifier: BSD-2-Clause
// Two utcp Stacks in one process over the in-memory link: the pure protocol cost, with no
// system call at all. Prints one JSON object on stdout.
//
//   utcp-stack-bench throughput [--mb N] [--mtu M] [--virtual] [--no-pacing] [--ipv6]
//     one connection, A sends N MB to B; Gbit/s per core (thread CPU time). --virtual
//     steps a virtual clock so that an instruction count (callgrind) is reproducible;
//     --no-pacing turns sender pacing off (tcp::Config::pacing), to measure what it costs;
//     --ipv6 runs the connection over IPv6 (fd77::2 -> fd77::1) instead of IPv4.
//   utcp-stack-bench scale [--conns N] [--exchange B]
//     N connections opened from A to B and held; RSS growth per connection and open time.
//     --exchange: then every client sends B bytes and every server answers B bytes; RSS and
//     malloc'd bytes per socket after that (the buffers a lightly used connection holds).
// A run that does not complete (a stall of 30 s on the stack's clock, a connection error, end
// of stream early, a wrong byte count or content, connections lost) prints why on stderr and
// exits 1; bad options exit 2.
#include <malloc.h>
#include <sys/resource.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "utcp/memory_link.hpp"
#include "utcp/stack.hpp"

namespace {

using namespace utcp;

struct Args {
  std::string mode = "throughput";
  size_t mb = 200;
  size_t mtu = 1500;
  size_t conns = 10000;
  size_t exchange = 0;
  bool virtual_clock = false;
  bool ipv6 = false;  // throughput over IPv6 (fd77::2 -> fd77::1) instead of IPv4
  bool pacing = true;
};

Args parse(int argc, char** argv) {
  Args a;
  if (argc > 1) a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&]() -> size_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "utcp-stack-bench: %s needs a value\n", k.c_str());
        std::exit(2);
      }
      const char* v = argv[++i];
      char* end = nullptr;
      errno = 0;
      const unsigned long long n = std::strtoull(v, &end, 10);
      if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n > (1ull << 40)) {
        std::fprintf(stderr, "utcp-stack-bench: %s: not a number: %s\n", k.c_str(), v);
        std::exit(2);
      }
      return static_cast<size_t>(n);
    };
    if (k == "--mb")
      a.mb = value();
    else if (k == "--mtu")
      a.mtu = value();
    else if (k == "--conns")
      a.conns = value();
    else if (k == "--exchange")
      a.exchange = value();
    else if (k == "--virtual")
      a.virtual_clock = true;
    else if (k == "--ipv6")
      a.ipv6 = true;
    else if (k == "--no-pacing")
      a.pacing = false;
    else {
      std::fprintf(stderr, "utcp-stack-bench: unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  if (a.conns > 4 * size_t{65535 - 1024}) {
    std::fprintf(stderr, "utcp-stack-bench: --conns: at most %zu\n", 4 * size_t{65535 - 1024});
    std::exit(2);
  }
  if (a.mtu < 576 || a.mtu > 65535) {
    std::fprintf(stderr, "utcp-stack-bench: --mtu: 576 to 65535\n");
    std::exit(2);
  }
  if (a.mode != "throughput" && a.mode != "scale") {
    std::fprintf(stderr, "usage: utcp-stack-bench throughput|scale [options]\n");
    std::exit(2);
  }
  return a;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

long rss_kib() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

// The MSS follows the link's MTU: the Stack takes it from the device.
StackConfig config_for(Ipv4Addr addr, uint8_t seed, bool pacing = true) {
  StackConfig c;
  c.address = addr;
  c.address6 = Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, addr.value & 0xff);  // ::2 and ::1, as v4
  c.tcp.pacing = pacing;
  for (size_t i = 0; i < c.secret.size(); ++i) c.secret[i] = static_cast<uint8_t>(seed + i);
  return c;
}

// Advances a virtual clock in fixed steps, or follows the real one.
struct Clock {
  bool virtual_clock;
  Instant t = instant_from_us(1'000'000);
  Instant tick() {
    if (virtual_clock) return t += Duration(5);
    return t = instant_from_us(
               static_cast<int64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count()));
  }
};

int throughput(const Args& args) {
  dev::MemoryLink link(dev::MemoryLinkConfig{.mtu = args.mtu, .queue_packets = 1024});
  Stack a(link.a(), config_for(Ipv4Addr(10, 77, 0, 2), 1, args.pacing));
  Stack b(link.b(), config_for(Ipv4Addr(10, 77, 0, 1), 101, args.pacing));
  Clock clock{args.virtual_clock};
  std::error_code ec;
  SocketId l = b.listen(5001, ec);
  const IpAddr to = args.ipv6 ? IpAddr(b.config().address6) : IpAddr(b.config().address);
  SocketId c = a.connect(to, 5001, ec);
  SocketId s = kNoSocket;
  for (int i = 0; i < 100000 && s == kNoSocket; ++i) {
    Instant now = clock.tick();
    a.process(now);
    b.process(now);
    s = b.accept(l, ec);
  }
  if (s == kNoSocket) {
    std::fprintf(stderr, "utcp-stack-bench: handshake failed\n");
    return 1;
  }
  const size_t total = args.mb << 20;
  std::vector<uint8_t> out(256 * 1024), in(256 * 1024);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i * 7);
  size_t sent = 0, received = 0;
  const double cpu0 = thread_cpu_seconds(), wall0 = wall_seconds();
  // A transfer that stops moving is a failure, never a hang: no byte received for this long
  // on the stack's clock (virtual or real) ends the run with an error.
  constexpr Duration kStallLimit = std::chrono::seconds(30);
  Instant last_progress = clock.t;
  size_t mismatched = 0;
  auto fail = [&](const char* why) {
    std::fprintf(stderr,
                 "utcp-stack-bench: transfer did not complete (%s): sent %zu, received %zu of "
                 "%zu bytes; sender %s, receiver %s\n",
                 why, sent, received, total, std::string(tcp::to_string(a.state(c))).c_str(),
                 std::string(tcp::to_string(b.state(s))).c_str());
    return 1;
  };
  while (received < total) {
    Instant now = clock.tick();
    while (sent < total) {
      // Byte i of the stream is out[i % out.size()], whatever sizes send() accepts.
      const size_t at = sent % out.size();
      size_t n = a.send(c, std::span(out).subspan(at, std::min(out.size() - at, total - sent)), ec);
      if (n == 0) break;
      sent += n;
    }
    if (ec && ec != std::errc::operation_would_block) return fail(ec.message().c_str());
    a.process(now);
    b.process(now);
    const size_t before = received;
    for (;;) {
      size_t n = b.recv(s, in, ec);
      if (n == 0) break;
      // The sender's bytes repeat every out.size(): check them (a cheap sample per read).
      if (in[0] != out[received % out.size()]) ++mismatched;
      received += n;
    }
    if (ec && ec != std::errc::operation_would_block) return fail(ec.message().c_str());
    if (ec != std::errc::operation_would_block && received < total) {
      return fail("end of stream before all bytes");
    }
    b.process(now);  // window updates go out in the same round
    if (received != before) {
      last_progress = now;
    } else if (now - last_progress > kStallLimit) {
      return fail("stalled: nothing received for 30 s");
    }
  }
  if (received != total) return fail("wrong byte count");
  if (mismatched > 0) {
    std::fprintf(stderr, "utcp-stack-bench: %zu reads started with a wrong byte\n", mismatched);
    return 1;
  }
  const double cpu = thread_cpu_seconds() - cpu0, wall = wall_seconds() - wall0;
  std::printf(
      "{\"mode\":\"throughput\",\"family\":\"%s\",\"mtu\":%zu,\"bytes\":%zu,"
      "\"cpu_s\":%.4f,\"wall_s\":%.4f,\"gbit_per_core\":%.2f}\n",
      args.ipv6 ? "ipv6" : "ipv4", args.mtu, total, cpu, wall, double(total) * 8 / cpu / 1e9);
  return 0;
}

int scale(const Args& args) {
  dev::MemoryLink link(dev::MemoryLinkConfig{.mtu = 1500, .queue_packets = 4096});
  StackConfig ca = config_for(Ipv4Addr(10, 77, 0, 2), 1);
  StackConfig cb = config_for(Ipv4Addr(10, 77, 0, 1), 101);
  ca.ephemeral_ports = {1024, 65535};
  cb.accept_backlog = 4096;
  cb.syn_backlog = 4096;
  const long rss0 = rss_kib();
  Stack a(link.a(), ca);
  Stack b(link.b(), cb);
  Clock clock{true};
  std::error_code ec;
  // 4 server ports x up to 60,000 client ports give enough distinct 4-tuples.
  std::vector<SocketId> listeners;
  for (uint16_t p = 0; p < 4; ++p)
    listeners.push_back(b.listen(static_cast<uint16_t>(6000 + p), ec, 4096));
  std::vector<SocketId> clients, servers;
  clients.reserve(args.conns);
  servers.reserve(args.conns);
  const long rss1 = rss_kib();
  const double wall0 = wall_seconds();
  size_t opened = 0, idle_rounds = 0;
  while (opened < args.conns || servers.size() < args.conns) {
    for (size_t k = 0; k < 512 && opened < args.conns; ++k, ++opened) {
      const uint16_t port = static_cast<uint16_t>(6000 + opened % 4);
      const uint16_t local = static_cast<uint16_t>(1024 + opened / 4);
      SocketId c = a.connect(b.config().address, port, ec, local);
      if (c == kNoSocket) {
        std::fprintf(stderr, "utcp-stack-bench: connect %zu: %s\n", opened, ec.message().c_str());
        return 1;
      }
      clients.push_back(c);
    }
    Instant now = clock.tick();
    for (int r = 0; r < 4; ++r) {
      a.process(now);
      b.process(now);
    }
    const size_t accepted_before = servers.size();
    for (SocketId l : listeners) {
      for (SocketId s; (s = b.accept(l, ec)) != kNoSocket;) servers.push_back(s);
    }
    // Every round opens or accepts something; 100,000 rounds (0.5 s virtual) without either
    // mean connections were lost: an error, not a hang.
    idle_rounds = servers.size() == accepted_before && opened == args.conns ? idle_rounds + 1 : 0;
    if (idle_rounds > 100000) {
      std::fprintf(stderr, "utcp-stack-bench: only %zu of %zu connections were accepted\n",
                   servers.size(), args.conns);
      return 1;
    }
  }
  const double open_s = wall_seconds() - wall0;
  const long rss2 = rss_kib();
  const size_t held = a.connection_count() + b.connection_count();
  size_t exchange_done = 0;
  if (args.exchange > 0) {
    const size_t heap0 = mallinfo2().uordblks + mallinfo2().hblkhd;
    std::vector<uint8_t> msg(args.exchange, 0x5a), buf(64 * 1024);
    std::vector<size_t> got_req(servers.size(), 0), got_reply(clients.size(), 0);
    size_t done = 0, requested = 0;
    // Under 1 s of virtual time, so that Config::idle_release has freed nothing yet.
    for (int round = 0; done < clients.size() && round < 150000; ++round) {
      // 512 requests per round, as the connections were opened, so the link never overflows.
      for (size_t k = 0; k < 512 && requested < clients.size(); ++k)
        a.send(clients[requested++], msg, ec);
      const Instant now = clock.tick();
      a.process(now);
      b.process(now);
      for (size_t i = 0; i < servers.size(); ++i) {
        if (got_req[i] >= msg.size()) continue;
        got_req[i] += b.recv(servers[i], buf, ec);
        if (got_req[i] >= msg.size()) b.send(servers[i], msg, ec);
      }
      for (size_t i = 0; i < clients.size(); ++i) {
        if (got_reply[i] >= msg.size()) continue;
        got_reply[i] += a.recv(clients[i], buf, ec);
        if (got_reply[i] >= msg.size()) ++done;
      }
    }
    const long rss3 = rss_kib();
    const size_t heap1 = mallinfo2().uordblks + mallinfo2().hblkhd;
    std::printf(
        "{\"mode\":\"scale-exchange\",\"conns\":%zu,\"bytes_each_way\":%zu,\"completed\":%zu,"
        "\"rss_kib_per_socket_after\":%.2f,\"heap_added_kib_per_socket\":%.2f}\n",
        args.conns, args.exchange, done, double(rss3 - rss1) / double(held ? held : 1),
        double(heap1 - heap0) / 1024.0 / double(held ? held : 1));
    exchange_done = done;
  }
  if (args.exchange > 0 && exchange_done < clients.size()) {
    std::fprintf(stderr, "utcp-stack-bench: only %zu of %zu exchanges completed\n", exchange_done,
                 clients.size());
    return 1;
  }
  std::printf(
      "{\"mode\":\"scale\",\"conns\":%zu,\"sockets_held\":%zu,\"rss_before_kib\":%ld,"
      "\"rss_after_kib\":%ld,\"stack_base_kib\":%ld,\"kib_per_socket\":%.2f,\"open_s\":%.3f,"
      "\"conns_per_s\":%.0f}\n",
      args.conns, held, rss1, rss2, rss1 - rss0, double(rss2 - rss1) / double(held ? held : 1),
      open_s, double(args.conns) / open_s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  return args.mode == "scale" ? scale(args) : throughput(args);
}
