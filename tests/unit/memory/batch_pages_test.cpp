// SPDX-License-Identifier: BSD-2-Clause
// The Stack's packet batch buffers give their pages back once the link has been quiet for an
// idle period (stack/batch_pages.hpp): counted as dev.batch-pages-released, once per quiet
// period that followed traffic, and the buffers work as before afterwards (their pages come
// back zero-filled).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "support/counters.hpp"
#include "support/sim_net.hpp"
#include "support/test_stream.hpp"

namespace utcp::test {
namespace {

constexpr uint16_t kPort = 7100;

// Sends `len` bytes of the test stream from `from` on c and reads them all at s.
void transfer(SimNet& net, SocketId c, SocketId s, size_t from, size_t len) {
  std::error_code ec;
  const std::vector<uint8_t> data = stream(from, len);
  std::vector<uint8_t> got, buf(16384);
  size_t sent = 0;
  net.run_until(
      [&] {
        if (sent < len) sent += net.a().send(c, std::span(data).subspan(sent), ec);
        for (size_t n; (n = net.b().recv(s, buf, ec)) > 0;)
          got.insert(got.end(), buf.begin(), buf.begin() + n);
        return got.size() == len;
      },
      std::chrono::seconds(30));
  ASSERT_EQ(got, data);
}

TEST(BatchPages, ReleasedOnceAfterTrafficWhenTheLinkIsQuiet) {
  SimNet net;
  std::error_code ec;
  const SocketId listener = net.b().listen(kPort, ec);
  ASSERT_FALSE(ec);
  const SocketId c = net.a().connect(net.b().config().address, kPort, ec);
  ASSERT_FALSE(ec);
  SocketId s = kNoSocket;
  net.run_until([&] { return (s = net.b().accept(listener, ec)) != kNoSocket; },
                std::chrono::seconds(5));
  ASSERT_NE(s, kNoSocket);

  transfer(net, c, s, 0, 300'000);
  // Traffic just moved: nothing released yet.
  EXPECT_EQ(counter(net.a(), "dev.batch-pages-released"), 0u);
  EXPECT_EQ(counter(net.b(), "dev.batch-pages-released"), 0u);
  // More than tcp::Config::idle_release (1 s) without a packet: each end releases once.
  net.run_until([] { return false; }, std::chrono::seconds(3));
  EXPECT_EQ(counter(net.a(), "dev.batch-pages-released"), 1u);
  EXPECT_EQ(counter(net.b(), "dev.batch-pages-released"), 1u);
  // Quiet on: nothing more to release.
  net.run_until([] { return false; }, std::chrono::seconds(3));
  EXPECT_EQ(counter(net.a(), "dev.batch-pages-released"), 1u);

  // The released buffers carry traffic again, byte-exact, and are released again after it.
  transfer(net, c, s, 300'000, 300'000);
  net.run_until([] { return false; }, std::chrono::seconds(3));
  EXPECT_EQ(counter(net.a(), "dev.batch-pages-released"), 2u);
  EXPECT_EQ(counter(net.b(), "dev.batch-pages-released"), 2u);
}

}  // namespace
}  // namespace utcp::test
