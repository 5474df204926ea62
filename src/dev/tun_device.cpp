// SPDX-License-Identifier: BSD-2-Clause
#include "utcp/tun.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <tuple>
#include <utility>

#include "dev/netlink_address.hpp"
#include "dev/netlink_route.hpp"
#include "dev/tcp_segment_merger.hpp"
#include "dev/vnet_header.hpp"

namespace utcp::dev {

struct TunDevice::TxScratch {
  static constexpr size_t kMaxRun = 64;  // segments merged into one frame at most
  TcpSegmentMerger merger;
  std::array<iovec, 2 + kMaxRun> iov{};  // virtio header, IP+TCP header, payloads
};

namespace {

constexpr size_t kMaxQueues = 256;  // the TUN driver's MAX_TAP_QUEUES

[[noreturn]] void fail(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// Closes a descriptor on scope exit unless released.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

bool valid_interface_name(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == ':' || c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

sockaddr_in inet_sockaddr(uint32_t host_order_addr) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(host_order_addr);
  return sin;
}

ifreq named_ifreq(const std::string& name) {
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());  // size checked < IFNAMSIZ
  return ifr;
}

// Writes `value` to /proc/sys/net/ipv6/conf/<interface>/<setting> (the calling thread's
// network namespace); the errno on failure, 0 on success.
int set_ipv6_sysctl(const std::string& interface, const char* setting, const char* value) {
  const std::string path = "/proc/sys/net/ipv6/conf/" + interface + "/" + setting;
  FdGuard fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  const size_t len = std::strlen(value);
  if (::write(fd.get(), value, len) != static_cast<ssize_t>(len)) return errno;
  return 0;
}

}  // namespace

TunDevice::TunDevice(const TunOptions& options) : tx_(std::make_unique<TxScratch>()) {
  if (!valid_interface_name(options.name)) {
    fail(EINVAL, "bad TUN interface name '" + options.name +
                     "': needs 1 to 15 characters, no '/', ':' or whitespace");
  }
  if (options.mtu > 65535 || (options.mtu != 0 && options.mtu < 68)) {
    // RFC 791: every host must take 68-byte packets; the IPv4 total length field caps 65535.
    fail(EINVAL, "bad TUN MTU " + std::to_string(options.mtu) + ": must be 68..65535");
  }
  if (options.kernel_address6) {
    const Ipv6Addr& a = *options.kernel_address6;
    if (a.is_unspecified() || a.is_multicast() || a.is_v4_mapped() || a.is_loopback()) {
      fail(EINVAL, "bad kernel IPv6 address " + a.to_string() + " for TUN '" + options.name +
                       "': needs a unicast address");
    }
    if (options.prefix6 > 128) {
      fail(EINVAL,
           "bad IPv6 prefix length " + std::to_string(options.prefix6) + ": must be 0..128");
    }
    if (options.mtu != 0 && options.mtu < 1280) {
      // RFC 8200 §5: every link carrying IPv6 has an MTU of 1280 or more; the kernel
      // disables IPv6 on an interface below that.
      fail(EINVAL, "TUN MTU " + std::to_string(options.mtu) + " is below IPv6's minimum of 1280");
    }
  }
  if (options.queues < 1 || options.queues > kMaxQueues) {
    fail(EINVAL, "bad TUN queue count " + std::to_string(options.queues) + ": must be 1.." +
                     std::to_string(kMaxQueues));
  }
  open_queue(options, options.name, options.offload);
  if (vnet_) offload_ = enable_offload();
  try {
    configure(options);
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

TunDevice::TunDevice(Adopted) : tx_(std::make_unique<TxScratch>()) {}

TunDevice TunDevice::adopt(int fd, const TunAdoptOptions& options) {
  const std::string what = "cannot adopt fd " + std::to_string(fd) + " as a TUN device: ";
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0) fail(errno, what + "not an open descriptor");
  // TUNGETIFF only reads the interface's name and flags; any descriptor that is not a TUN
  // (a socket, a pipe, a file) refuses it.
  ifreq ifr{};
  if (::ioctl(fd, TUNGETIFF, &ifr) < 0) {
    const int err = errno;
    if (err == EBADFD) fail(EINVAL, what + "the TUN descriptor is not attached to an interface");
    fail(EINVAL, what + "not a TUN descriptor (TUNGETIFF: " + std::strerror(err) + ")");
  }
  const std::string name(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  if ((ifr.ifr_flags & IFF_TAP) != 0 || (ifr.ifr_flags & IFF_TUN) == 0) {
    fail(EINVAL, what + "'" + name + "' is a TAP (Ethernet frames), not a TUN (IP packets)");
  }
  if ((ifr.ifr_flags & IFF_NO_PI) == 0) {
    fail(EINVAL,
         what + "'" + name + "' carries packet-information headers (open it with IFF_NO_PI)");
  }
  const bool vnet = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
  if (vnet) {
    int size = 0;
    if (::ioctl(fd, TUNGETVNETHDRSZ, &size) < 0 || size != static_cast<int>(sizeof(VnetHeader))) {
      fail(EINVAL, what + "'" + name + "' has a virtio-net header of " + std::to_string(size) +
                       " bytes; only " + std::to_string(sizeof(VnetHeader)) + " is supported");
    }
  }
  size_t mtu = options.mtu;
  if (mtu == 0) {
    FdGuard sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq q = named_ifreq(name);
    if (sock.get() < 0 || ::ioctl(sock.get(), SIOCGIFMTU, &q) < 0) {
      fail(errno, what + "cannot read the MTU of '" + name + "' (give TunAdoptOptions::mtu)");
    }
    mtu = static_cast<size_t>(q.ifr_mtu);
  }
  if (mtu < 68 || mtu > 65535) fail(EINVAL, what + "bad MTU " + std::to_string(mtu));
  // receive() must return when the kernel has nothing: the descriptor is made non-blocking
  // (a property of the open file, not of the interface).
  if ((fl & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    fail(errno, what + "cannot make it non-blocking");
  }
  TunDevice tun{Adopted{}};
  tun.fd_ = fd;
  tun.mtu_ = mtu;
  tun.name_ = name;
  tun.vnet_ = vnet;
  tun.offload_ = vnet && options.offload;
  return tun;
}

TunDevice::TunDevice(const TunOptions& options, const TunDevice& first, size_t index)
    : mtu_(first.mtu_), queue_(index), tx_(std::make_unique<TxScratch>()) {
  // Same flags as queue 0: the kernel refuses a queue whose IFF_MULTI_QUEUE differs, and
  // resets the device's IFF_VNET_HDR to what each attaching queue asks for.
  open_queue(options, first.name_, first.vnet_);
  // The header size and offloads belong to the device; setting them again changes nothing.
  if (vnet_) offload_ = first.offload_ && enable_offload();
}

std::vector<std::unique_ptr<TunDevice>> TunDevice::open_queues(const TunOptions& options) {
  std::vector<std::unique_ptr<TunDevice>> queues;
  queues.push_back(std::make_unique<TunDevice>(options));
  for (size_t i = 1; i < options.queues; ++i) {
    queues.push_back(std::unique_ptr<TunDevice>(new TunDevice(options, *queues[0], i)));
  }
  return queues;
}

void TunDevice::open_queue(const TunOptions& options, const std::string& name, bool vnet) {
  FdGuard tun(::open(options.device_path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (tun.get() < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENODEV || err == ENXIO) {
      fail(err, "no " + options.device_path +
                    ": load the tun module or run in a container with the device");
    }
    if (err == EPERM || err == EACCES) {
      fail(err, "permission denied opening TUN " + options.device_path +
                    ": needs CAP_NET_ADMIN (run as root)");
    }
    fail(err, "cannot open " + options.device_path);
  }

  const short multi = options.queues > 1 ? IFF_MULTI_QUEUE : 0;
  ifreq ifr = named_ifreq(name);
  ifr.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | multi | (vnet ? IFF_VNET_HDR : 0));
  int rc = ::ioctl(tun.get(), TUNSETIFF, &ifr);
  if (rc < 0 && errno == EINVAL && vnet) {
    // A kernel without virtio-net headers on TUN: plain packets it is.
    ifr = named_ifreq(name);
    ifr.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | multi);
    rc = ::ioctl(tun.get(), TUNSETIFF, &ifr);
  }
  if (rc < 0) {
    const int err = errno;
    if (err == EPERM || err == EACCES) {
      fail(err, "permission denied creating TUN '" + name + "': needs CAP_NET_ADMIN (run as root)");
    }
    if (err == EBUSY) {
      fail(err, "TUN '" + name + "' is busy: another process has it attached");
    }
    if (err == EINVAL) {
      fail(err, "cannot create TUN '" + name +
                    "': bad name, an interface of another kind already has it, or its "
                    "multi-queue setting differs");
    }
    fail(err, "TUNSETIFF '" + name + "' failed");
  }
  name_.assign(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  vnet_ = (ifr.ifr_flags & IFF_VNET_HDR) != 0;
  fd_ = tun.release();
}

bool TunDevice::enable_offload() {
  int size = sizeof(VnetHeader);
  if (::ioctl(fd_, TUNSETVNETHDRSZ, &size) < 0) return false;
  // Without TUN_F_CSUM the kernel neither sends partial checksums nor takes GSO frames;
  // the virtio header then stays all zero in both directions.
  const unsigned flags = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  return ::ioctl(fd_, TUNSETOFFLOAD, flags) == 0;
}

void TunDevice::configure(const TunOptions& options) {
  FdGuard sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) fail(errno, "cannot open a socket to configure TUN '" + name_ + "'");

  ifreq ifr = named_ifreq(name_);
  if (options.mtu != 0) {
    ifr.ifr_mtu = static_cast<int>(options.mtu);
    if (::ioctl(sock.get(), SIOCSIFMTU, &ifr) < 0) {
      fail(errno, "cannot set MTU " + std::to_string(options.mtu) + " on TUN '" + name_ + "'");
    }
    mtu_ = options.mtu;
  } else {
    if (::ioctl(sock.get(), SIOCGIFMTU, &ifr) < 0)
      fail(errno, "cannot read MTU of '" + name_ + "'");
    mtu_ = static_cast<size_t>(ifr.ifr_mtu);
  }

  if (options.txqueuelen != 0) {
    ifr = named_ifreq(name_);
    ifr.ifr_qlen = static_cast<int>(std::min<uint32_t>(options.txqueuelen, INT32_MAX));
    if (::ioctl(sock.get(), SIOCSIFTXQLEN, &ifr) < 0) {
      fail(errno, "cannot set txqueuelen " + std::to_string(options.txqueuelen) + " on TUN '" +
                      name_ + "'");
    }
  }

  if (options.kernel_address) {
    if (options.prefix_len > 32) fail(EINVAL, "bad prefix length for TUN '" + name_ + "'");
    ifr = named_ifreq(name_);
    const sockaddr_in addr = inet_sockaddr(options.kernel_address->value);
    std::memcpy(&ifr.ifr_addr, &addr, sizeof addr);
    if (::ioctl(sock.get(), SIOCSIFADDR, &ifr) < 0) {
      fail(errno,
           "cannot set address " + options.kernel_address->to_string() + " on '" + name_ + "'");
    }
    const uint32_t mask = options.prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - options.prefix_len);
    const sockaddr_in netmask = inet_sockaddr(mask);
    ifr = named_ifreq(name_);
    std::memcpy(&ifr.ifr_netmask, &netmask, sizeof netmask);
    if (::ioctl(sock.get(), SIOCSIFNETMASK, &ifr) < 0) {
      fail(errno,
           "cannot set netmask /" + std::to_string(options.prefix_len) + " on '" + name_ + "'");
    }
  }

  if (options.kernel_address6) configure_ipv6(sock.get(), options);

  if (options.bring_up) {
    ifr = named_ifreq(name_);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0)
      fail(errno, "cannot read flags of '" + name_ + "'");
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0) fail(errno, "cannot bring up '" + name_ + "'");
    // The kernel routes to its new IPv6 address from a work queue, a moment after the link
    // came up; until then a packet the stack sends it is lost. Waits for that, bounded.
    for (int i = 0; options.kernel_address6 && i < 200 &&
                    !ipv6_local_route_present(*options.kernel_address6, name_);
         ++i) {
      ::usleep(5000);
    }
  }
  if (!options.routes.empty()) add_routes(sock.get(), options);
}

void TunDevice::add_routes(int inet_sock, const TunOptions& options) {
  ifreq ifr = named_ifreq(name_);
  if (::ioctl(inet_sock, SIOCGIFINDEX, &ifr) < 0) fail(errno, "cannot find '" + name_ + "'");
  for (size_t i = 0; i < options.routes.size(); ++i) {
    const IpPrefix& p = options.routes[i];
    if (const int err = netlink_add_route(ifr.ifr_ifindex, p); err != 0) {
      std::string why = "cannot add the route to " + p.to_string() + " through '" + name_ + "'";
      if (p.addr.is_v6() && !options.kernel_address6) why += " (IPv6 is not set up on it)";
      // Those added so far would go with the device, unless it is a persistent one.
      for (size_t j = 0; j < i; ++j) (void)netlink_delete_route(ifr.ifr_ifindex, options.routes[j]);
      fail(err, why);
    }
  }
}

void TunDevice::configure_ipv6(int inet_sock, const TunOptions& options) {
  const std::string addr = options.kernel_address6->to_string();
  if (mtu_ < 1280) {
    fail(EINVAL, "TUN '" + name_ + "' has MTU " + std::to_string(mtu_) +
                     ", below IPv6's minimum of 1280 (RFC 8200 §5)");
  }
  if (::access("/proc/sys/net/ipv6", F_OK) != 0) {
    fail(EAFNOSUPPORT, "cannot set IPv6 address " + addr + " on '" + name_ +
                           "': the kernel has no IPv6 (booted with ipv6.disable=1?)");
  }
  // Duplicate address detection: on a point-to-point link only the stack could answer, and it
  // never claims the kernel's address. The address itself is added "no DAD" below; this
  // covers the link-local address the kernel may add on its own.
  (void)set_ipv6_sysctl(name_, "accept_dad", "0");
  // The stack sends no router advertisements; nothing to listen for.
  (void)set_ipv6_sysctl(name_, "accept_ra", "0");
  // A namespace or a distribution may default to IPv6 off on new interfaces.
  if (const int err = set_ipv6_sysctl(name_, "disable_ipv6", "0"); err != 0) {
    fail(err, "cannot enable IPv6 on '" + name_ + "' (/proc/sys/net/ipv6/conf/" + name_ +
                  "/disable_ipv6)");
  }
  ifreq ifr = named_ifreq(name_);
  if (::ioctl(inet_sock, SIOCGIFINDEX, &ifr) < 0) fail(errno, "cannot find '" + name_ + "'");
  // Adds the address, marked "no DAD" (usable at once), and with it the route to its prefix
  // over this interface.
  if (const int err =
          netlink_add_ipv6_address(ifr.ifr_ifindex, *options.kernel_address6, options.prefix6);
      err != 0) {
    fail(err, "cannot set address " + addr + "/" + std::to_string(options.prefix6) + " on '" +
                  name_ + "'");
  }
}

TunDevice::~TunDevice() {
  if (fd_ >= 0) ::close(fd_);
}

TunDevice::TunDevice(TunDevice&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      mtu_(other.mtu_),
      name_(std::move(other.name_)),
      counters_(other.counters_),
      vnet_(other.vnet_),
      offload_(other.offload_),
      queue_(other.queue_),
      tx_(std::move(other.tx_)) {}

TunDevice& TunDevice::operator=(TunDevice&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    mtu_ = other.mtu_;
    name_ = std::move(other.name_);
    counters_ = other.counters_;
    vnet_ = other.vnet_;
    offload_ = other.offload_;
    queue_ = other.queue_;
    tx_ = std::move(other.tx_);
  }
  return *this;
}

DeviceCapabilities TunDevice::capabilities() const {
  DeviceCapabilities c;
  c.mtu = mtu_;
  c.scatter_receive = true;
  if (offload_) {
    c.rx_checksum_offload = true;  // VIRTIO_NET_HDR_F_NEEDS_CSUM / DATA_VALID
    c.tso_max_bytes = TcpSegmentMerger::kMaxFrame;
    c.tso_checksum_offload = true;  // oversized_piece() segments go as NEEDS_CSUM GSO frames
  }
  return c;
}

size_t TunDevice::receive(std::span<PacketSlot> slots, Instant /*now*/) {
  size_t filled = 0;
  VnetHeader vh;
  while (filled < slots.size()) {
    PacketSlot& slot = slots[filled];
    ssize_t n;
    if (!slot.place.empty()) {
      // Scatter: the header and the start of the packet to `place`, the rest to `buf`.
      iovec iov[3] = {{&vh, sizeof vh},
                      {slot.place.data(), slot.place.size()},
                      {slot.buf.data(), slot.buf.size()}};
      n = vnet_ ? ::readv(fd_, iov, 3) : ::readv(fd_, iov + 1, 2);
    } else if (vnet_) {
      iovec iov[2] = {{&vh, sizeof vh}, {slot.buf.data(), slot.buf.size()}};
      n = ::readv(fd_, iov, 2);
    } else {
      n = ::read(fd_, slot.buf.data(), slot.buf.size());
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      fail(errno, "read from TUN '" + name_ + "' failed");
    }
    if (n == 0) break;
    slot.checksum_verified = false;
    if (vnet_) {
      if (static_cast<size_t>(n) < sizeof vh) continue;  // cannot happen; never trust it
      n -= static_cast<ssize_t>(sizeof vh);
      if (vh.checksum_trusted()) {
        slot.checksum_verified = true;
        ++counters_.rx_checksum_trusted;
      }
      if (vh.is_gso()) ++counters_.rx_gso_frames;
    }
    slot.len = static_cast<size_t>(n);
    slot.placed = std::min(slot.len, slot.place.size());
    ++counters_.rx_packets;
    counters_.rx_bytes += slot.len;
    ++filled;
  }
  return filled;
}

bool TunDevice::write_frame(std::span<const std::span<const uint8_t>> run, uint16_t gso_size) {
  static const VnetHeader kPlain{};
  TcpSegmentMerger& merger = tx_->merger;
  auto& iov = tx_->iov;
  size_t niov = 0;
  if (run.size() > 1 || gso_size != 0) {
    merger.merge(run, run.size(), gso_size);
    iov[niov++] = {const_cast<VnetHeader*>(&merger.vnet()), sizeof(VnetHeader)};
    iov[niov++] = {const_cast<uint8_t*>(merger.header().data()), merger.header().size()};
    for (const auto& p : run) {
      const auto payload = TcpSegmentMerger::payload(p);
      iov[niov++] = {const_cast<uint8_t*>(payload.data()), payload.size()};
    }
  } else {
    if (vnet_) iov[niov++] = {const_cast<VnetHeader*>(&kPlain), sizeof kPlain};
    iov[niov++] = {const_cast<uint8_t*>(run[0].data()), run[0].size()};
  }
  ssize_t n;
  do {
    n = ::writev(fd_, iov.data(), static_cast<int>(niov));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
      ++counters_.tx_busy;
      return false;
    }
    if (err == EINVAL || err == EMSGSIZE || err == EFAULT) {
      // The kernel rejected this packet's contents; the next one may be fine.
      counters_.tx_rejected += run.size();
      return true;
    }
    fail(err, "write to TUN '" + name_ + "' failed");
  }
  if (run.size() > 1 || gso_size != 0) ++counters_.tx_gso_frames;
  counters_.tx_packets += run.size();
  for (const auto& p : run) counters_.tx_bytes += p.size();
  return true;
}

size_t TunDevice::transmit(std::span<const std::span<const uint8_t>> packets, Instant /*now*/) {
  constexpr size_t kMaxRun = TxScratch::kMaxRun;
  size_t accepted = 0;
  while (accepted < packets.size()) {
    const auto rest = packets.subspan(accepted);
    const size_t run =
        offload_ ? TcpSegmentMerger::run_length(rest.first(std::min(rest.size(), kMaxRun))) : 1;
    // A segment larger than the MTU (the sender's TSO) goes down whole, cut by the kernel.
    const uint16_t piece =
        offload_ && run == 1 ? TcpSegmentMerger::oversized_piece(rest[0], mtu_) : 0;
    if (!write_frame(rest.first(run), piece)) break;
    accepted += run;
  }
  return accepted;
}

}  // namespace utcp::dev
