// SPDX-License-Identifier: BSD-2-Clause
#include "pcap_tap.hpp"

#include <dlfcn.h>
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

// libpcap is loaded when the first tap is made, not linked: a program that records nothing
// (every run without --pcap) then maps neither libpcap nor what Debian's build of it pulls in
// (libdbus, libsystemd, libgcrypt, lz4, zstd, lzma: about 1 MB of resident pages in
// utcp-proxy, whose memory goal is 6 MB).
struct PcapApi {
  decltype(&::pcap_open_dead) open_dead = nullptr;
  decltype(&::pcap_dump_open) dump_open = nullptr;
  decltype(&::pcap_geterr) geterr = nullptr;
  decltype(&::pcap_close) close = nullptr;
  decltype(&::pcap_dump) dump = nullptr;
  decltype(&::pcap_dump_flush) dump_flush = nullptr;
  decltype(&::pcap_dump_close) dump_close = nullptr;
};

template <typename F>
void bind(void* lib, const char* name, F& f) {
  f = reinterpret_cast<F>(dlsym(lib, name));
  if (f == nullptr) throw std::runtime_error(std::string("libpcap lacks ") + name);
}

// Loaded once, never unloaded (records may be written until exit).
const PcapApi& pcap_api() {
  static const PcapApi api = [] {
    void* lib = nullptr;
    // Debian's runtime package ships the soname libpcap.so.0.8; upstream's is libpcap.so.1.
    for (const char* name : {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"}) {
      lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (lib != nullptr) break;
    }
    if (lib == nullptr) throw std::runtime_error(std::string("cannot load libpcap: ") + dlerror());
    PcapApi a;
    bind(lib, "pcap_open_dead", a.open_dead);
    bind(lib, "pcap_dump_open", a.dump_open);
    bind(lib, "pcap_geterr", a.geterr);
    bind(lib, "pcap_close", a.close);
    bind(lib, "pcap_dump", a.dump);
    bind(lib, "pcap_dump_flush", a.dump_flush);
    bind(lib, "pcap_dump_close", a.dump_close);
    return a;
  }();
  return api;
}
}  // namespace

PcapTap::PcapTap(Device& inner, const std::string& path, uint32_t snaplen)
    : inner_(inner), pcap_(nullptr), dumper_(nullptr), snaplen_(snaplen) {
  // DLT_RAW is written to the file as LINKTYPE_RAW (101): packets start at the IP header.
  const PcapApi& api = pcap_api();
  pcap_ = api.open_dead(DLT_RAW, static_cast<int>(snaplen));
  if (pcap_ == nullptr) throw std::runtime_error("pcap_open_dead failed");
  dumper_ = api.dump_open(as_pcap(pcap_), path.c_str());
  if (dumper_ == nullptr) {
    const std::string why = api.geterr(as_pcap(pcap_));
    api.close(as_pcap(pcap_));
    throw std::runtime_error("cannot write pcap file " + path + ": " + why);
  }
}

PcapTap::~PcapTap() {
  pcap_api().dump_close(as_dumper(dumper_));
  pcap_api().close(as_pcap(pcap_));
}

void PcapTap::record(std::span<const uint8_t> packet, Instant now) {
  pcap_pkthdr hdr{};
  const int64_t us = to_us(now);
  hdr.ts.tv_sec = static_cast<time_t>(us / 1'000'000);
  hdr.ts.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
  hdr.len = static_cast<bpf_u_int32>(packet.size());
  hdr.caplen = static_cast<bpf_u_int32>(std::min<size_t>(packet.size(), snaplen_));
  pcap_api().dump(reinterpret_cast<u_char*>(dumper_), &hdr, packet.data());
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
  pcap_api().dump_flush(as_dumper(dumper_));
}

}  // namespace utcp::dev
