// SPDX-License-Identifier: BSD-2-Clause
// utcp-tun-write-bench: is io_uring worth it for writing batches of packets into a TUN?
//
// Writes batches of N 1500-byte IPv4/UDP packets into a TUN, either with N write() calls
// or with N writes submitted to io_uring in one io_uring_enter() (optionally with a
// kernel SQPOLL thread, which needs no system call at all), and prints microseconds per
// packet: median wall time per batch and the process's CPU time over all batches (the
// SQPOLL thread's counts as ours).
// The packets go to a UDP socket bound on the kernel side, drained between batches.
//
// Runs as root and enters a private network namespace first (unshare), so the TUN and all
// traffic vanish with the process. Output: one JSON object per line.
//
//   utcp-tun-write-bench [--batches 300] [--sizes 1,8,32,64]
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr size_t kPacket = 1500;
constexpr uint16_t kPort = 9000;

[[noreturn]] void die(const std::string& what, int err = errno) {
  std::fprintf(stderr, "utcp-tun-write-bench: %s: %s\n", what.c_str(), std::strerror(err));
  std::exit(1);
}

double now_us(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

uint16_t ip_checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t{p[i]} << 8 | p[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// 10.77.0.2:9001 -> 10.77.0.1:9000, UDP without a checksum (RFC 768 allows 0 on IPv4).
std::vector<uint8_t> udp_packet(uint16_t id) {
  std::vector<uint8_t> p(kPacket, 0x5a);
  std::fill(p.begin(), p.begin() + 28, 0);  // IPv4 and UDP headers
  p[0] = 0x45;
  p[2] = kPacket >> 8;
  p[3] = kPacket & 0xff;
  p[4] = static_cast<uint8_t>(id >> 8);
  p[5] = static_cast<uint8_t>(id);
  p[6] = 0x40;  // DF
  p[8] = 64;
  p[9] = 17;
  const uint8_t src[] = {10, 77, 0, 2}, dst[] = {10, 77, 0, 1};
  std::memcpy(&p[12], src, 4);
  std::memcpy(&p[16], dst, 4);
  const uint16_t c = ip_checksum(p.data(), 20);
  p[10] = static_cast<uint8_t>(c >> 8);
  p[11] = static_cast<uint8_t>(c);
  const uint16_t ulen = kPacket - 20;
  p[20] = 9001 >> 8;
  p[21] = 9001 & 0xff;
  p[22] = kPort >> 8;
  p[23] = kPort & 0xff;
  p[24] = static_cast<uint8_t>(ulen >> 8);
  p[25] = static_cast<uint8_t>(ulen);
  return p;
}

void interface_up(int s, const char* name) {
  ifreq ifr{};
  std::strcpy(ifr.ifr_name, name);
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die(std::string("SIOCGIFFLAGS ") + name);
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die(std::string("SIOCSIFFLAGS ") + name);
}

int open_tun() {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) die("open /dev/net/tun");
  ifreq ifr{};
  std::strcpy(ifr.ifr_name, "utcpb0");
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(0x0a4d0001);  // 10.77.0.1
  std::memcpy(&ifr.ifr_addr, &sin, sizeof sin);
  if (::ioctl(s, SIOCSIFADDR, &ifr) < 0) die("SIOCSIFADDR");
  sin.sin_addr.s_addr = htonl(0xffffff00);
  std::memcpy(&ifr.ifr_netmask, &sin, sizeof sin);
  if (::ioctl(s, SIOCSIFNETMASK, &ifr) < 0) die("SIOCSIFNETMASK");
  interface_up(s, "utcpb0");
  interface_up(s, "lo");  // local delivery in a fresh namespace needs it
  ::close(s);
  return fd;
}

int udp_sink() {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const int buf = 64 << 20;
  ::setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(0x0a4d0001);
  sin.sin_port = htons(kPort);
  if (::bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin) < 0) die("bind");
  return s;
}

size_t drain(int sink) {
  static uint8_t buf[65536];
  size_t n = 0;
  while (::recv(sink, buf, sizeof buf, 0) > 0) ++n;
  return n;
}

struct Sample {
  double wall_us;
  double cpu_us;
};

// This process's CPU time, every thread (an SQPOLL kernel thread is one of ours), in µs.
double cpu_us() {
  return now_us(CLOCK_PROCESS_CPUTIME_ID);
}

enum class Mode { kWrite, kUring, kUringSqpoll };
const char* mode_name(Mode m) {
  return m == Mode::kWrite ? "write" : m == Mode::kUring ? "io_uring" : "io_uring_sqpoll";
}

class Writer {
 public:
  Writer(Mode mode, int tun, size_t depth) : mode_(mode), tun_(tun) {
    if (mode == Mode::kWrite) return;
    io_uring_params params{};
    if (mode == Mode::kUringSqpoll) {
      params.flags = IORING_SETUP_SQPOLL;
      params.sq_thread_idle = 2000;  // ms: the thread stays awake between batches
    }
    if (const int rc = io_uring_queue_init_params(static_cast<unsigned>(depth), &ring_, &params);
        rc < 0) {
      die(std::string("io_uring_queue_init (") + mode_name(mode) + ")", -rc);
    }
    if (io_uring_register_files(&ring_, &tun_, 1) < 0) die("io_uring_register_files");
  }
  ~Writer() {
    if (mode_ != Mode::kWrite) io_uring_queue_exit(&ring_);
  }

  // Writes every packet; returns how many the kernel accepted.
  size_t write_batch(const std::vector<std::vector<uint8_t>>& packets) {
    size_t ok = 0;
    if (mode_ == Mode::kWrite) {
      for (const auto& p : packets) ok += ::write(tun_, p.data(), p.size()) == ssize_t(p.size());
      return ok;
    }
    for (const auto& p : packets) {
      io_uring_sqe* sqe;
      // With SQPOLL the kernel thread may post the completions before it moves the ring's
      // head past the entries: wait for the room.
      while ((sqe = io_uring_get_sqe(&ring_)) == nullptr) io_uring_sqring_wait(&ring_);
      io_uring_prep_write(sqe, 0, p.data(), static_cast<unsigned>(p.size()), 0);
      sqe->flags |= IOSQE_FIXED_FILE;
    }
    io_uring_submit_and_wait(&ring_, static_cast<unsigned>(packets.size()));
    for (size_t i = 0; i < packets.size(); ++i) {
      io_uring_cqe* cqe;
      if (io_uring_wait_cqe(&ring_, &cqe) < 0) die("io_uring_wait_cqe");
      ok += cqe->res == int(kPacket);
      io_uring_cqe_seen(&ring_, cqe);
    }
    return ok;
  }

 private:
  Mode mode_;
  int tun_;
  io_uring ring_{};
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int batches = 300;
  std::vector<size_t> sizes = {1, 8, 32, 64};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--batches") {
      batches = std::atoi(argv[i + 1]);
    } else if (a == "--sizes") {
      sizes.clear();
      for (char* t = std::strtok(argv[i + 1], ","); t; t = std::strtok(nullptr, ","))
        sizes.push_back(std::strtoul(t, nullptr, 10));
    } else {
      std::fprintf(stderr, "usage: utcp-tun-write-bench [--batches N] [--sizes 1,8,32,64]\n");
      return 2;
    }
  }
  if (::geteuid() != 0) die("needs root (TUN in a private network namespace)", EPERM);
  if (::unshare(CLONE_NEWNET) != 0) die("unshare(CLONE_NEWNET)");
  const int tun = open_tun();
  const int sink = udp_sink();
  const Mode modes[] = {Mode::kWrite, Mode::kUring, Mode::kUringSqpoll};
  for (size_t n : sizes) {
    std::vector<std::vector<uint8_t>> packets;
    for (size_t i = 0; i < n; ++i) packets.push_back(udp_packet(static_cast<uint16_t>(i)));
    std::vector<double> wall[3];
    double cpu[3] = {};
    size_t written[3] = {}, received[3] = {};
    auto measure = [&](size_t m, Writer& w) {
      const double c0 = cpu_us(), w0 = now_us(CLOCK_MONOTONIC);
      written[m] += w.write_batch(packets);
      const double w1 = now_us(CLOCK_MONOTONIC);
      cpu[m] += cpu_us() - c0;
      wall[m].push_back((w1 - w0) / double(n));
      received[m] += drain(sink);
    };
    {
      // write() and io_uring interleaved batch by batch, so machine noise falls on both.
      Writer plain(Mode::kWrite, tun, n), uring(Mode::kUring, tun, n);
      for (int b = 0; b < batches; ++b) {
        measure(0, plain);
        measure(1, uring);
      }
    }
    {
      // SQPOLL alone: its kernel thread polls (and burns a CPU) while it is awake, which
      // would slow the other modes; its CPU time counts as this process's.
      Writer sqpoll(Mode::kUringSqpoll, tun, n);
      for (int b = 0; b < batches; ++b) measure(2, sqpoll);
    }
    for (size_t m = 0; m < 3; ++m) {
      std::printf(
          "{\"mode\": \"%s\", \"batch\": %zu, \"us_per_packet_wall\": %.3f, "
          "\"us_per_packet_cpu\": %.3f, \"written\": %zu, \"received\": %zu}\n",
          mode_name(modes[m]), n, median(wall[m]), cpu[m] / double(batches * n), written[m],
          received[m]);
      std::fflush(stdout);
    }
  }
  return 0;
}
