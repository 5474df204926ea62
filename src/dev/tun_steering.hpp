// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Deterministic flow steering for a multi-queue TUN: a small eBPF program (written out
// instruction by instruction, no libbpf) installed with TUNSETSTEERINGEBPF picks the queue
// of every packet the kernel sends, in place of the driver's flow table ("automq").
//
// The rule, for a TCP segment (and an ICMP error quoting one) between the kernel and the
// stacks, over IPv4 or IPv6 (without extension headers): if the stack's port lies in queue k's
// share of the ephemeral range, queue k (an active open by stack k, which draws its local ports
// from that share); otherwise a hash of the peer's port modulo the queue count (a passive open:
// every stack listens on the port, any queue will do as long as it is always the same one).
// Anything else goes to queue 0.
//
// Unlike automq it needs no flow table: automq steers the kernel's SYN-ACK to an active
// open by hash (it is sent before the driver records the flow), and forgets a flow 3 s
// after the user side last wrote a packet of it (see utcp/stack_group.hpp).
#include <cstddef>
#include <cstdint>

#include "utcp/port_range.hpp"

namespace utcp::dev {

class PortSteering {
 public:
  // `range` is split into `queues` equal shares (any remainder stays unused).
  PortSteering(PortRange range, size_t queues);

  // Queue k's share: the ephemeral ports of the stack on queue k.
  PortRange share(size_t k) const;
  // The queue the rule picks for a packet from the peer's port to the stack's port.
  size_t queue_for(uint16_t stack_port, uint16_t peer_port) const;

  // Loads the program into the kernel: its descriptor (the caller closes it), or -errno.
  int load() const;
  // Loads the program and attaches it to the TUN device `tun_fd` (any queue of it). Returns
  // 0 on success, else the errno of the step that failed (no BPF, not permitted, ...).
  int install(int tun_fd) const;

 private:
  PortRange range_;
  size_t queues_;
  uint32_t share_size_;
};

}  // namespace utcp::dev
