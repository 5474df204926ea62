// SPDX-License-Identifier: BSD-2-Clause
// The blocking facade: two Interfaces (each a Stack on its own loop thread) over an
// in-memory link, used from plain threads.
#include "utcp/blocking.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "utcp/event_loop.hpp"
#include "utcp/memory_link.hpp"

namespace utcp {
namespace {

using namespace std::chrono_literals;

const Ipv4Addr kServer(10, 0, 0, 1);
const Ipv4Addr kClient(10, 0, 0, 2);

InterfaceOptions options_for(Ipv4Addr addr, uint8_t secret_seed) {
  InterfaceOptions o;
  o.stack.address = addr;
  for (size_t i = 0; i < o.stack.secret.size(); ++i) {
    o.stack.secret[i] = static_cast<uint8_t>(secret_seed + i);
  }
  o.close_timeout = Duration(300'000);
  return o;
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::printf("random payload seed %u\n", seed);
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

std::vector<uint8_t> read_to_end(TcpStream& s) {
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(16 * 1024);
  for (;;) {
    const size_t n = s.read(buf);
    if (n == 0) return out;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<ptrdiff_t>(n));
  }
}

TEST(Blocking, EchoTwoMegabytesAcrossThreads) {
  dev::MemoryLink link;
  Interface server(link.a(), options_for(kServer, 1));
  Interface client(link.b(), options_for(kClient, 101));
  TcpListener listener = server.listen(7);

  std::thread echo([&] {
    Endpoint peer;
    TcpStream s = listener.accept(&peer);
    EXPECT_EQ(peer.addr, kClient);
    std::vector<uint8_t> buf(8192);
    for (size_t n; (n = s.read(buf)) > 0;) s.write_all(std::span(buf).first(n));
    s.shutdown();
    EXPECT_TRUE(s.wait_fin_acked(Duration(5'000'000)));
  });

  const std::vector<uint8_t> data = random_bytes(2 << 20, 20240601);
  TcpStream c = client.connect(kServer, 7);
  EXPECT_EQ(c.state(), tcp::State::kEstablished);
  EXPECT_EQ(c.peer_endpoint().port, 7);
  std::thread writer([&] {
    c.write_all(data);
    c.shutdown();
  });
  const std::vector<uint8_t> back = read_to_end(c);
  writer.join();
  echo.join();
  ASSERT_EQ(back.size(), data.size());
  EXPECT_TRUE(back == data);
}

TEST(Blocking, ConnectToClosedPortIsRefused) {
  dev::MemoryLink link;
  Interface server(link.a(), options_for(kServer, 1));
  Interface client(link.b(), options_for(kClient, 101));
  std::error_code ec;
  TcpStream c = client.connect(kServer, 9, ec);
  EXPECT_EQ(ec, std::errc::connection_refused) << ec.message();
  EXPECT_FALSE(c.valid());
  EXPECT_THROW(client.connect(kServer, 9), std::system_error);
}

TEST(Blocking, ManyConnectionsInParallel) {
  dev::MemoryLink link;
  Interface server(link.a(), options_for(kServer, 1));
  Interface client(link.b(), options_for(kClient, 101));
  TcpListener listener = server.listen(80);
  constexpr int kConns = 8;
  std::thread acceptor([&] {
    std::vector<std::thread> handlers;
    for (int i = 0; i < kConns; ++i) {
      handlers.emplace_back([s = listener.accept()]() mutable {
        std::vector<uint8_t> got = read_to_end(s);
        // Reply with the byte count, so the client checks both directions.
        const std::string reply = std::to_string(got.size());
        s.write_all(std::span(reinterpret_cast<const uint8_t*>(reply.data()), reply.size()));
      });
    }
    for (auto& h : handlers) h.join();
  });
  std::vector<std::thread> clients;
  std::atomic<int> ok = 0;
  for (int i = 0; i < kConns; ++i) {
    clients.emplace_back([&, i] {
      TcpStream c = client.connect(kServer, 80);
      const std::vector<uint8_t> data = random_bytes(10'000 + 1000 * size_t(i), 7 + i);
      c.write_all(data);
      c.shutdown();
      const std::vector<uint8_t> reply = read_to_end(c);
      if (std::string(reply.begin(), reply.end()) == std::to_string(data.size())) ++ok;
    });
  }
  for (auto& t : clients) t.join();
  acceptor.join();
  EXPECT_EQ(ok.load(), kConns);
}

TEST(Blocking, DestructionWakesBlockedReaderAndDoesNotHang) {
  dev::MemoryLink link;
  auto server = std::make_unique<Interface>(link.a(), options_for(kServer, 1));
  Interface client(link.b(), options_for(kClient, 101));
  TcpListener listener = server->listen(80);
  TcpStream c = client.connect(kServer, 80);
  TcpStream s = listener.accept();
  std::error_code read_ec;
  std::thread reader([&] {
    std::vector<uint8_t> buf(100);
    s.read(buf, read_ec);  // nothing ever arrives
  });
  std::this_thread::sleep_for(50ms);
  // A dead path: the server's FIN is never acknowledged, so the destructor must give up.
  link.set_down(true);
  const Instant start = EventLoop::clock_now();
  server.reset();
  const Instant end = EventLoop::clock_now();
  reader.join();
  EXPECT_EQ(read_ec, std::errc::operation_canceled) << read_ec.message();
  EXPECT_LT(to_us(end) - to_us(start), 3'000'000);  // close_timeout is 300 ms
  std::error_code ec;
  std::vector<uint8_t> buf(10);
  s.read(buf, ec);  // the stream outlived its Interface: safe, and reports why
  EXPECT_EQ(ec, std::errc::operation_canceled);
}

TEST(Blocking, DestructionClosesGracefully) {
  dev::MemoryLink link;
  auto server = std::make_unique<Interface>(link.a(), options_for(kServer, 1));
  Interface client(link.b(), options_for(kClient, 101));
  TcpListener listener = server->listen(80);
  TcpStream c = client.connect(kServer, 80);
  TcpStream s = listener.accept();
  const std::string hello = "last words";
  s.write_all(std::span(reinterpret_cast<const uint8_t*>(hello.data()), hello.size()));
  server.reset();  // sends what was written, then FIN, and waits for the ACK
  const std::vector<uint8_t> got = read_to_end(c);
  EXPECT_EQ(std::string(got.begin(), got.end()), hello);
}

TEST(Blocking, ConnectTimesOutAgainstASilentPeer) {
  dev::MemoryLink link;
  link.set_down(true);  // every SYN is lost: without a timeout connect() would wait minutes
  Interface client(link.b(), options_for(kClient, 101));
  std::error_code ec;
  const Instant start = EventLoop::clock_now();
  TcpStream c = client.connect(kServer, 80, Duration(300'000), ec);
  const Instant end = EventLoop::clock_now();
  EXPECT_EQ(ec, std::errc::timed_out) << ec.message();
  EXPECT_FALSE(c.valid());
  EXPECT_GE(to_us(end) - to_us(start), 300'000);
  EXPECT_LT(to_us(end) - to_us(start), 5'000'000);  // not the minutes of syn_retries
  EXPECT_GE(link.b_to_a().dropped_down, 1u);        // a SYN did go out
  // The abandoned attempt is released: no connection is left behind retrying.
  for (int i = 0; i < 100 && client.connection_count() != 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(client.connection_count(), 0u);
  EXPECT_THROW(client.connect(kServer, 80, Duration(50'000)), std::system_error);
}

TEST(Blocking, ConnectWithTimeoutSucceedsWhenThePeerAnswers) {
  dev::MemoryLink link;
  Interface server(link.a(), options_for(kServer, 1));
  Interface client(link.b(), options_for(kClient, 101));
  TcpListener listener = server.listen(80);
  std::error_code ec;
  TcpStream c = client.connect(kServer, 80, Duration(5'000'000), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(c.state(), tcp::State::kEstablished);
  TcpStream s = listener.accept();
  EXPECT_EQ(s.peer_endpoint().port, c.local_endpoint().port);
  // A failure within the budget is reported as itself, not as a timeout.
  TcpStream r = client.connect(kServer, 9, Duration(5'000'000), ec);
  EXPECT_EQ(ec, std::errc::connection_refused) << ec.message();
}

}  // namespace
}  // namespace utcp
