#include "dev/tun_device.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace utcp::dev {

namespace {

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

}  // namespace

TunDevice::TunDevice(const TunOptions& options) {
  if (!valid_interface_name(options.name)) {
    fail(EINVAL, "bad TUN interface name '" + options.name +
                     "': needs 1 to 15 characters, no '/', ':' or whitespace");
  }
  if (options.mtu > 65535 || (options.mtu != 0 && options.mtu < 68)) {
    // RFC 791: every host must take 68-byte packets; the IPv4 total length field caps 65535.
    fail(EINVAL, "bad TUN MTU " + std::to_string(options.mtu) + ": must be 68..65535");
  }
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

  ifreq ifr = named_ifreq(options.name);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (::ioctl(tun.get(), TUNSETIFF, &ifr) < 0) {
    const int err = errno;
    if (err == EPERM || err == EACCES) {
      fail(err, "permission denied creating TUN '" + options.name +
                    "': needs CAP_NET_ADMIN (run as root)");
    }
    if (err == EBUSY) {
      fail(err, "TUN '" + options.name + "' is busy: another process has it attached");
    }
    if (err == EINVAL) {
      fail(err, "cannot create TUN '" + options.name +
                    "': bad name, or an interface of another kind already has it");
    }
    fail(err, "TUNSETIFF '" + options.name + "' failed");
  }
  name_.assign(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  fd_ = tun.release();
  try {
    configure(options);
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
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

  if (options.bring_up) {
    ifr = named_ifreq(name_);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0)
      fail(errno, "cannot read flags of '" + name_ + "'");
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0) fail(errno, "cannot bring up '" + name_ + "'");
  }
}

TunDevice::~TunDevice() {
  if (fd_ >= 0) ::close(fd_);
}

TunDevice::TunDevice(TunDevice&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      mtu_(other.mtu_),
      name_(std::move(other.name_)),
      counters_(other.counters_) {}

TunDevice& TunDevice::operator=(TunDevice&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    mtu_ = other.mtu_;
    name_ = std::move(other.name_);
    counters_ = other.counters_;
  }
  return *this;
}

size_t TunDevice::receive(std::span<PacketSlot> slots, Instant /*now*/) {
  size_t filled = 0;
  while (filled < slots.size()) {
    PacketSlot& slot = slots[filled];
    const ssize_t n = ::read(fd_, slot.buf.data(), slot.buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      fail(errno, "read from TUN '" + name_ + "' failed");
    }
    if (n == 0) break;
    slot.len = static_cast<size_t>(n);
    ++counters_.rx_packets;
    counters_.rx_bytes += slot.len;
    ++filled;
  }
  return filled;
}

size_t TunDevice::transmit(std::span<const std::span<const uint8_t>> packets, Instant /*now*/) {
  size_t accepted = 0;
  for (const auto& packet : packets) {
    ssize_t n;
    do {
      n = ::write(fd_, packet.data(), packet.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
        ++counters_.tx_busy;
        break;
      }
      if (err == EINVAL || err == EMSGSIZE || err == EFAULT) {
        // The kernel rejected this packet's contents; the next one may be fine.
        ++counters_.tx_rejected;
        ++accepted;
        continue;
      }
      fail(err, "write to TUN '" + name_ + "' failed");
    }
    ++counters_.tx_packets;
    counters_.tx_bytes += packet.size();
    ++accepted;
  }
  return accepted;
}

}  // namespace utcp::dev
