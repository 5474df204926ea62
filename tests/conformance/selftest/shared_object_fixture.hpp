// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// libutcp_packetdrill.so loaded with dlopen, as packetdrill loads it, plus helpers to build
// and read packets through its table.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <optional>
#include <span>
#include <vector>

#include "utcp/packetdrill_interface.h"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace utcp::drill_selftest {

using namespace utcp;

class SharedObject : public ::testing::Test {
 protected:
  void SetUp() override {
    dl_ = dlopen(UTCP_PACKETDRILL_SO, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(dl_, nullptr) << dlerror();
    init_ =
        reinterpret_cast<packetdrill_interface_init_t>(dlsym(dl_, "packetdrill_interface_init"));
    ASSERT_NE(init_, nullptr);
  }
  void TearDown() override {
    if (ifc_.free) ifc_.free(ifc_.userdata);
    if (dl_) dlclose(dl_);
  }

  // An IPv4/TCP packet from 192.0.2.1:40000 to the port's address.
  std::vector<uint8_t> segment(uint8_t flags, uint32_t seq, uint32_t ack,
                               std::span<const uint8_t> payload = {}) {
    wire::TcpRepr t;
    t.payload = payload;
    t.src_port = 40000;
    t.dst_port = 8080;
    t.seq = wire::SeqNum(seq);
    t.ack = wire::SeqNum(ack);
    t.flags = flags;
    t.window = 65535;
    if (flags & wire::tcp_flag::kSyn) t.options.mss = 1000;
    wire::Ipv4Repr ip;
    ip.src = remote;
    ip.dst = local;
    ip.protocol = wire::ip_proto::kTcp;
    ip.payload_len = static_cast<uint16_t>(t.total_len());
    std::vector<uint8_t> out(ip.total_len());
    ip.emit(out);
    t.emit(std::span<uint8_t>(out).subspan(ip.header_len()), remote, local);
    return out;
  }

  // The next outbound TCP segment (empty optional if none came).
  std::optional<wire::TcpRepr> receive(std::vector<uint8_t>& buf, long long* at = nullptr) {
    buf.assign(2048, 0);
    size_t count = buf.size();
    long long when = 0;
    EXPECT_EQ(ifc_.netdev_receive(ifc_.userdata, buf.data(), &count, &when), 0);
    if (at) *at = when;
    if (count == 0) return std::nullopt;
    buf.resize(count);
    auto ip = wire::Ipv4Packet::parse(buf);
    if (!ip) return std::nullopt;
    auto tcp = wire::TcpPacket::parse(ip->payload(), ip->src(), ip->dst());
    if (!tcp) return std::nullopt;
    return tcp->repr();
  }

  // bind() of descriptor `fd` to local:port through the table; its return value.
  int bind_local(int fd, uint16_t port) {
    sockaddr_in bind_to{};
    bind_to.sin_family = AF_INET;
    bind_to.sin_port = htons(port);
    bind_to.sin_addr.s_addr = htonl(local.value);
    return ifc_.bind(ifc_.userdata, fd, reinterpret_cast<sockaddr*>(&bind_to), sizeof bind_to);
  }

  // utcp's extension that wakes every blocked call for good (they fail with EINTR).
  void stop_waiting() {
    auto stop = reinterpret_cast<utcp_packetdrill_stop_waiting_t>(
        dlsym(dl_, "utcp_packetdrill_stop_waiting"));
    if (stop && ifc_.userdata) stop(ifc_.userdata);
  }

  const wire::Ipv4Addr local{192, 168, 0, 1};
  const wire::Ipv4Addr remote{192, 0, 2, 1};
  void* dl_ = nullptr;
  packetdrill_interface_init_t init_ = nullptr;
  packetdrill_interface ifc_{};
};

}  // namespace utcp::drill_selftest
