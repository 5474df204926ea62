// SPDX-License-Identifier: BSD-2-Clause
// Google Benchmark micro-benchmarks of the per-packet hot pieces: the Internet checksum,
// TCP segment parse and emit, reassembly insert, timer operations, connection lookup, and
// the TUN transmit path's segment merger.
#include <benchmark/benchmark.h>

#include <unordered_map>
#include <vector>

#include "dev/tcp_segment_merger.hpp"
#include "stack/four_tuple.hpp"
#include "stack/timer_heap.hpp"
#include "tcp/reassembly_queue.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace {

using namespace utcp;

const wire::Ipv4Addr kSrc(10, 77, 0, 2);
const wire::Ipv4Addr kDst(10, 77, 0, 1);

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 131 + 7);
  return v;
}

wire::TcpRepr data_segment(std::span<const uint8_t> payload) {
  wire::TcpRepr r;
  r.src_port = 40000;
  r.dst_port = 5001;
  r.seq = wire::SeqNum(1000);
  r.ack = wire::SeqNum(2000);
  r.flags = wire::tcp_flag::kAck;
  r.window = 5000;
  r.options.timestamps = wire::TcpTimestamps{1234, 5678};
  r.payload = payload;
  return r;
}

void BM_Checksum(benchmark::State& state) {
  const auto data = pattern(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(wire::internet_checksum(data));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Checksum)->Arg(40)->Arg(1460)->Arg(65535);

void BM_TcpEmit(benchmark::State& state) {
  const auto payload = pattern(1448);
  std::vector<uint8_t> buf(2000);
  const auto seg = data_segment(payload);
  for (auto _ : state) benchmark::DoNotOptimize(seg.emit(buf, kSrc, kDst));
  state.SetBytesProcessed(int64_t(state.iterations()) * 1448);
}
BENCHMARK(BM_TcpEmit);

void BM_TcpParse(benchmark::State& state) {
  const auto payload = pattern(1448);
  std::vector<uint8_t> buf(2000);
  const size_t n = data_segment(payload).emit(buf, kSrc, kDst);
  const bool verify = state.range(0) != 0;
  for (auto _ : state) {
    auto p = wire::TcpPacket::parse(std::span(buf).first(n), kSrc, kDst, verify);
    benchmark::DoNotOptimize(p);
  }
  state.SetLabel(verify ? "checksum verified" : "checksum offloaded");
}
BENCHMARK(BM_TcpParse)->Arg(1)->Arg(0);

void BM_ReassemblyInOrder(benchmark::State& state) {
  const auto payload = pattern(1448);
  std::vector<uint8_t> sink(1 << 16);
  tcp::ReassemblyQueue q(1 << 20);
  for (auto _ : state) {
    q.insert(0, payload);
    if (q.readable() > (1 << 19)) q.read(sink);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * 1448);
}
BENCHMARK(BM_ReassemblyInOrder);

void BM_ReassemblyOutOfOrder(benchmark::State& state) {
  // A hole at the front, then segments landing behind it; the hole is filled every 32.
  const auto payload = pattern(1448);
  std::vector<uint8_t> sink(1 << 16);
  tcp::ReassemblyQueue q(1 << 20);
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % 32;
    if (k == 31) {
      q.insert(0, payload);
      while (q.readable() > 0) q.read(sink);
    } else {
      q.insert((k + 1) * 1448, payload);
    }
  }
}
BENCHMARK(BM_ReassemblyOutOfOrder);

void BM_TimerReschedule(benchmark::State& state) {
  // Every packet of a connection moves its deadline: the common timer operation.
  const auto n = static_cast<uint32_t>(state.range(0));
  stack::TimerHeap heap;
  for (uint32_t i = 0; i < n; ++i) heap.schedule(i, instant_from_us(1'000'000 + i * 10));
  uint32_t id = 0;
  int64_t t = 2'000'000;
  for (auto _ : state) {
    heap.schedule(id, instant_from_us(t++));
    id = (id * 2654435761u + 1) % n;
  }
}
BENCHMARK(BM_TimerReschedule)->Arg(1000)->Arg(100000);

void BM_ConnectionLookup(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  std::unordered_map<stack::FourTuple, uint32_t, stack::FourTupleHash> table(
      n, stack::FourTupleHash(42));
  std::vector<stack::FourTuple> keys;
  for (uint32_t i = 0; i < n; ++i) {
    stack::FourTuple t{kSrc, static_cast<uint16_t>(6000 + i % 4),
                       wire::Ipv4Addr(10, 0, static_cast<uint8_t>(i >> 16), 1),
                       static_cast<uint16_t>(1024 + (i & 0xffff))};
    table.emplace(t, i);
    keys.push_back(t);
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.find(keys[i]));
    i = (i + 7919) % n;
  }
}
BENCHMARK(BM_ConnectionLookup)->Arg(1000)->Arg(100000);

void BM_SegmentMerger(benchmark::State& state) {
  // A 44-segment burst of one connection, as the sender queues it for the TUN.
  const auto payload = pattern(1448);
  std::vector<std::vector<uint8_t>> packets;
  std::vector<std::span<const uint8_t>> views;
  for (uint32_t i = 0; i < 44; ++i) {
    auto seg = data_segment(payload);
    seg.seq = wire::SeqNum(1000 + i * 1448);
    std::vector<uint8_t> p(20 + seg.total_len());
    const size_t n = seg.emit(std::span(p).subspan(20), kSrc, kDst);
    wire::Ipv4Repr ip{.src = kSrc,
                      .dst = kDst,
                      .protocol = wire::ip_proto::kTcp,
                      .payload_len = static_cast<uint16_t>(n)};
    ip.emit(p);
    packets.push_back(std::move(p));
  }
  for (const auto& p : packets) views.emplace_back(p);
  dev::TcpSegmentMerger m;
  for (auto _ : state) {
    const size_t run = dev::TcpSegmentMerger::run_length(views);
    m.merge(views, run);
    benchmark::DoNotOptimize(m.header().data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * 44 * 1448);
}
BENCHMARK(BM_SegmentMerger);

}  // namespace

BENCHMARK_MAIN();
