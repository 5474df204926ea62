// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// A Linux TUN device (IFF_TUN | IFF_NO_PI): every read() yields one IP packet (IPv4 or IPv6,
// told apart by its version nibble) the kernel routed to the interface, every write() injects
// one into the kernel's receive path.
// With offload (the default where the kernel allows it) each packet travels behind a
// virtio-net header: the kernel hands over TCP frames of up to 64 KB with the checksum left
// to nobody, and transmit() merges runs of segments into such frames (one writev each).
// Optionally configures the kernel side (IPv4 and IPv6 address and prefix, MTU, link up)
// itself through ioctls, rtnetlink and /proc/sys, so no `ip` command is needed (that needs
// CAP_NET_ADMIN), and adds routes into it; or adopts a descriptor
// someone else opened and configured (adopt(), no privilege). Errors are std::system_error
// naming the cause.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "utcp/address.hpp"
#include "utcp/device.hpp"

namespace utcp::dev {

struct TunOptions {
  std::string name = "utcp0";  // interface name; "utcp%d" lets the kernel pick a number
  std::string device_path = "/dev/net/tun";
  size_t mtu = 1500;                       // set on the interface; 0 leaves it as it is
  std::optional<Ipv4Addr> kernel_address;  // the kernel's own address on the link
  uint8_t prefix_len = 24;
  // The kernel's IPv6 address on the link, e.g. fd77::1 with prefix6 64: the kernel routes
  // fd77::/64 to the interface. IPv6 is enabled on the interface (disable_ipv6 = 0) and the
  // address added without duplicate address detection (rtnetlink, IFA_F_NODAD), so it is
  // usable at once: on a point-to-point TUN nobody else can hold it. Needs an MTU of at least
  // 1280 (RFC 8200 §5) and a kernel with IPv6.
  std::optional<Ipv6Addr> kernel_address6;
  uint8_t prefix6 = 64;
  bool bring_up = true;  // set IFF_UP
  // IFF_VNET_HDR + TUNSETOFFLOAD(CSUM|TSO4|TSO6). Falls back to plain packets when the
  // kernel refuses either; offload_active() tells which mode is on.
  bool offload = true;
  // More than 1: IFF_MULTI_QUEUE, one descriptor per queue (open_queues()); the kernel
  // spreads the flows it sends over the queues.
  size_t queues = 1;
  // Kernel routes through the interface, added once it is up (rtnetlink, main table, scope
  // link): the prefixes a forwarding Stack terminates (StackConfig::forward), so the kernel
  // sends their traffic into the TUN. Both families; an IPv6 prefix needs IPv6 on the
  // interface (kernel_address6). The kernel removes them with the interface, so they never
  // outlive the device, even when the process is killed. A route already there is an error.
  std::vector<IpPrefix> routes;
  // The interface's transmit queue length (SIOCSIFTXQLEN): how many packets the kernel holds
  // for the reader before it drops (TUN default 500, counted as TX drops in `ip -s link`). A
  // burst of new connections from the kernel side can exceed 500 between two reads. 0 leaves
  // the kernel's default. Set when the device is configured; adopt() never changes it.
  uint32_t txqueuelen = 0;
};

// For TunDevice::adopt(): what cannot be learnt from the descriptor without privilege.
struct TunAdoptOptions {
  // The interface's MTU; 0 asks the kernel (SIOCGIFMTU by the interface's name, which needs
  // no privilege). Give it where that is not allowed (Android: the MTU given to
  // VpnService.Builder.setMtu()).
  size_t mtu = 0;
  // For a descriptor with IFF_VNET_HDR: whether whoever opened it also enabled TSO and
  // checksum offload (TUNSETOFFLOAD), so transmit() may merge segments into 64 KB frames.
  bool offload = false;
};

struct TunCounters {
  uint64_t rx_packets = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_rejected = 0;          // the kernel refused the packet itself (e.g. EINVAL)
  uint64_t tx_busy = 0;              // write would block; the packet was not accepted
  uint64_t rx_gso_frames = 0;        // received frames holding several segments
  uint64_t rx_checksum_trusted = 0;  // packets the kernel vouched for (no software check)
  uint64_t tx_gso_frames = 0;        // writes that carried a merged run of segments
};

class TunDevice final : public Device {
 public:
  // Queue 0 of the device (the only one when options.queues is 1); configures the kernel side.
  explicit TunDevice(const TunOptions& options = {});
  // options.queues descriptors on one multi-queue device: queue 0 configures the kernel side,
  // the others attach to it with the same flags. Each is a Device of its own, for one thread.
  static std::vector<std::unique_ptr<TunDevice>> open_queues(const TunOptions& options);
  // Adopts `fd`, a TUN descriptor someone else opened and attached to an interface
  // (Android's VpnService.Builder.establish(), or a privileged helper passing it over a UNIX
  // socket with SCM_RIGHTS), so a program without CAP_NET_ADMIN can run the stack. No
  // configuration call is made: name, flags and (unless options.mtu says) the MTU are read
  // from the kernel; the only change is O_NONBLOCK on the descriptor. On success the device
  // owns `fd` and closes it; on failure (std::system_error naming the cause: not a TUN, a
  // TAP, packet-information headers on, not attached) the caller keeps it.
  static TunDevice adopt(int fd, const TunAdoptOptions& options = {});
  ~TunDevice() override;
  TunDevice(TunDevice&& other) noexcept;
  TunDevice& operator=(TunDevice&& other) noexcept;
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;

  int fd() const override { return fd_; }
  size_t mtu() const override { return mtu_; }
  // Reads until the kernel has nothing (EAGAIN) or the slots are full. Slot buffers should
  // hold mtu() bytes: the kernel truncates a packet that does not fit.
  // A slot's `place` is honoured: one readv scatters the packet over place and buf.
  size_t receive(std::span<PacketSlot> slots, Instant now) override;
  // Scatter reads always; with offload active also rx checksums, TSO up to 64 KB and the
  // checksums of what it cuts (TcpSegmentMerger).
  DeviceCapabilities capabilities() const override;
  // Writes each packet; stops at the first one the kernel cannot take now (EAGAIN).
  size_t transmit(std::span<const std::span<const uint8_t>> packets, Instant now) override;

  const std::string& name() const { return name_; }
  const TunCounters& counters() const { return counters_; }
  bool offload_active() const { return offload_; }
  size_t queue() const { return queue_; }

 private:
  struct Adopted {};
  explicit TunDevice(Adopted);  // for adopt()
  // Attaches queue `index` to the multi-queue device `first` created.
  TunDevice(const TunOptions& options, const TunDevice& first, size_t index);
  void open_queue(const TunOptions& options, const std::string& name, bool vnet);
  void configure(const TunOptions& options);
  void configure_ipv6(int inet_sock, const TunOptions& options);
  void add_routes(int inet_sock, const TunOptions& options);
  bool enable_offload();
  // Writes one packet, or one merged run; returns false when the kernel is busy.
  // gso_size: a single packet larger than the MTU, to be cut into pieces of this size.
  bool write_frame(std::span<const std::span<const uint8_t>> run, uint16_t gso_size);

  // The transmit path's scratch (segment merger, iovec array): internal types, kept out of
  // this public header.
  struct TxScratch;

  int fd_ = -1;
  size_t mtu_ = 1500;
  std::string name_;
  TunCounters counters_;
  bool vnet_ = false;     // every packet carries a virtio-net header
  bool offload_ = false;  // ... and the kernel agreed to checksum and TSO offload
  size_t queue_ = 0;      // index among the device's queues
  std::unique_ptr<TxScratch> tx_;
};

}  // namespace utcp::dev
