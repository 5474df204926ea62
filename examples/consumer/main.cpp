// SPDX-License-Identifier: BSD-2-Clause
// Two utcp stacks in one process, joined by the in-memory link: one listens, the other
// connects and sends 256 KiB, the listener sends back how many bytes it got and both close.
// No TUN, no root, no real clock: the program drives both stacks on a virtual clock with
// Stack::process(). Uses only the installed public headers. Exit status 0 when every byte
// arrived in order and both sides saw the other's FIN.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "utcp/memory_link.hpp"
#include "utcp/stack.hpp"
#include "utcp/version.hpp"
#ifdef UTCP_CONSUMER_PCAP
#include <unistd.h>

#include <filesystem>

#include "utcp/pcap_tap.hpp"
#endif

namespace {

utcp::StackConfig config_for(utcp::Ipv4Addr address) {
  utcp::StackConfig c;
  c.address = address;
  c.secret = utcp::StackConfig::random_secret();
  return c;
}

uint8_t pattern(size_t i) {
  return static_cast<uint8_t>(i * 7 + i / 251);
}

}  // namespace

int main() {
  constexpr size_t kBytes = 256 * 1024;
  constexpr uint16_t kPort = 5000;
  const utcp::Ipv4Addr server_addr(10, 0, 0, 1);
  const utcp::Ipv4Addr client_addr(10, 0, 0, 2);

  utcp::dev::MemoryLink link;
#ifdef UTCP_CONSUMER_PCAP
  // utcp::pcap: the server's side of the link recorded to a file.
  const std::filesystem::path capture = std::filesystem::temp_directory_path() /
                                        ("utcp-consumer-" + std::to_string(::getpid()) + ".pcap");
  utcp::dev::PcapTap tap(link.a(), capture.string());
  utcp::dev::Device& server_device = tap;
#else
  utcp::dev::Device& server_device = link.a();
#endif
  utcp::Stack server(server_device, config_for(server_addr));
  utcp::Stack client(link.b(), config_for(client_addr));

  std::error_code ec;
  const utcp::SocketId listener = server.listen(kPort, ec);
  if (ec) return std::fprintf(stderr, "listen: %s\n", ec.message().c_str()), 1;
  const utcp::SocketId c = client.connect(server_addr, kPort, ec);
  if (ec) return std::fprintf(stderr, "connect: %s\n", ec.message().c_str()), 1;

  utcp::SocketId s = utcp::kNoSocket;
  size_t sent = 0, received = 0;
  bool reply_sent = false, client_done = false, server_done = false;
  std::string reply;
  std::vector<uint8_t> buf(16 * 1024);
  // Virtual time: 100 µs a step, at most 60 virtual seconds.
  int64_t us = 0;
  for (; us < 60'000'000 && !(client_done && server_done); us += 100) {
    const utcp::Instant now = utcp::instant_from_us(us);
    server.process(now);
    client.process(now);

    if (s == utcp::kNoSocket) {
      s = server.accept(listener, ec);
      if (s == utcp::kNoSocket && ec && ec != std::errc::operation_would_block) {
        return std::fprintf(stderr, "accept: %s\n", ec.message().c_str()), 1;
      }
    }
    // Client, once connected: send the pattern, then FIN; read the reply until the server's
    // FIN.
    const bool connected = (client.readiness(c) & utcp::ready::kConnected) != 0;
    while (connected && sent < kBytes) {
      uint8_t chunk[4096];
      const size_t n = std::min(sizeof chunk, kBytes - sent);
      for (size_t i = 0; i < n; ++i) chunk[i] = pattern(sent + i);
      const size_t took = client.send(c, std::span<const uint8_t>(chunk, n), ec);
      if (ec == std::errc::operation_would_block || took == 0) break;
      if (ec) return std::fprintf(stderr, "send: %s\n", ec.message().c_str()), 1;
      sent += took;
      if (sent == kBytes) client.shutdown_write(c, ec);
    }
    for (size_t n; !client_done && (n = client.recv(c, buf, ec)) > 0 && !ec;) {
      reply.append(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
    if (!client_done && !ec && (client.readiness(c) & utcp::ready::kHangup)) client_done = true;
    if (ec && ec != std::errc::operation_would_block) {
      return std::fprintf(stderr, "client recv: %s\n", ec.message().c_str()), 1;
    }

    // Server: check every byte; at the client's FIN, reply with the count and close.
    if (s != utcp::kNoSocket && !server_done) {
      for (;;) {
        const size_t n = server.recv(s, buf, ec);
        if (ec == std::errc::operation_would_block) break;
        if (ec) return std::fprintf(stderr, "server recv: %s\n", ec.message().c_str()), 1;
        if (n == 0) {  // the client's FIN
          if (!reply_sent) {
            const std::string text = std::to_string(received);
            server.send(s, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
                        ec);
            server.shutdown_write(s, ec);
            reply_sent = true;
          }
          server_done = true;
          break;
        }
        for (size_t i = 0; i < n; ++i) {
          if (buf[i] != pattern(received + i)) {
            return std::fprintf(stderr, "byte %zu differs\n", received + i), 1;
          }
        }
        received += n;
      }
    }
  }
  // Another virtual second for the last ACKs.
  for (const int64_t end = us + 1'000'000; us < end; us += 100) {
    server.process(utcp::instant_from_us(us));
    client.process(utcp::instant_from_us(us));
  }
  server.close(s);
  client.close(c);
  std::printf("utcp %s: %zu bytes sent, the server got %s\n", UTCP_VERSION_STRING, sent,
              reply.c_str());
  bool ok = received == kBytes && reply == std::to_string(kBytes);
#ifdef UTCP_CONSUMER_PCAP
  tap.flush();
  const auto size = std::filesystem::file_size(capture);
  std::printf("pcap: %llu packets recorded, %llu bytes\n",
              static_cast<unsigned long long>(tap.packets_written()),
              static_cast<unsigned long long>(size));
  std::filesystem::remove(capture);
  ok = ok && tap.packets_written() > 0 && size > 24;  // more than the file header
#endif
  return ok ? 0 : 1;
}
