// SPDX-License-Identifier: BSD-2-Clause
#include "pcap_tap.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <stdexcept>

namespace utcp::dev {

namespace {
pcap_t* as_pcap(void* p) {
  return static_cast<pcap_t*>(p);
}
pcap_dumper_t* as_dumper(void* p) {
  return static_cast<pcap_dumper_t*>(p);
}
}  // namespace

PcapTap::PcapTap(Device& inner, const std::string& path, uint32_t snaplen)
    : inner_(inner), pcap_(nullptr), dumper_(nullptr), snaplen_(snaplen) {
  // DLT_RAW is written to the file as LINKTYPE_RAW (101): packets start at the IP header.
  pcap_ = pcap_open_dead(DLT_RAW, static_cast<int>(snaplen));
  if (pcap_ == nullptr) throw std::runtime_error("pcap_open_dead failed");
  dumper_ = pcap_dump_open(as_pcap(pcap_), path.c_str());
  if (dumper_ == nullptr) {
    const std::string why = pcap_geterr(as_pcap(pcap_));
    pcap_close(as_pcap(pcap_));
    throw std::runtime_error("cannot write pcap file " + path + ": " + why);
  }
}

PcapTap::~PcapTap() {
  pcap_dump_close(as_dumper(dumper_));
  pcap_close(as_pcap(pcap_));
}

void PcapTap::record(std::span<const uint8_t> packet, Instant now) {
  pcap_pkthdr hdr{};
  const int64_t us = to_us(now);
  hdr.ts.tv_sec = static_cast<time_t>(us / 1'000'000);
  hdr.ts.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
  hdr.len = static_cast<bpf_u_int32>(packet.size());
  hdr.caplen = static_cast<bpf_u_int32>(std::min<size_t>(packet.size(), snaplen_));
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &hdr, packet.data());
  ++written_;
}

size_t PcapTap::receive(std::span<PacketSlot> slots, Instant now) {
  const size_t n = inner_.receive(slots, now);
  for (size_t i = 0; i < n; ++i) record(slots[i].data(), now);
  return n;
}

size_t PcapTap::transmit(std::span<const std::span<const uint8_t>> packets, Instant now) {
  const size_t n = inner_.transmit(packets, now);
  for (size_t i = 0; i < n; ++i) record(packets[i], now);
  return n;
}

void PcapTap::flush() {
  pcap_dump_flush(as_dumper(dumper_));
}

}  // namespace utcp::dev
