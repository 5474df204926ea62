// SPDX-License-Identifier: BSD-2-Clause
#include "pcap_tap.hpp"

#include <pcap/pcap.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "support/scatter_device.hpp"
#include "utcp/memory_link.hpp"
#include "wire/icmp.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"

namespace utcp::dev {
namespace {

using wire::Ipv4Addr;

// A complete IPv4 echo request from src to dst, easy to recognise in a decoder.
std::vector<uint8_t> echo_packet(Ipv4Addr src, Ipv4Addr dst, uint16_t seq) {
  const uint8_t data[4] = {'u', 't', 'c', 'p'};
  const auto icmp = wire::IcmpRepr::echo_request(0x4242, seq, data);
  std::vector<uint8_t> p(20 + icmp.total_len());
  wire::Ipv4Repr ip{.src = src,
                    .dst = dst,
                    .protocol = wire::ip_proto::kIcmp,
                    .identification = seq,
                    .payload_len = static_cast<uint16_t>(icmp.total_len())};
  ip.emit(p);
  icmp.emit(std::span(p).subspan(20));
  return p;
}

std::string temp_path(const char* name) {
  return ::testing::TempDir() + "utcp_" + name + "_" + std::to_string(::getpid()) + ".pcap";
}

struct Record {
  int64_t us;
  std::vector<uint8_t> bytes;
};

class PcapTapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = temp_path(::testing::UnitTest::GetInstance()->current_test_info()->name());
    const Ipv4Addr a(10, 77, 0, 2), b(10, 77, 0, 1);
    {
      PcapTap tap(link_.a(), path_);
      tap.transmit_one(out1_ = echo_packet(a, b, 1), instant_from_us(1'500'000));
      tap.transmit_one(out2_ = echo_packet(a, b, 2), instant_from_us(2'250'000));
      link_.b().transmit_one(in_ = echo_packet(b, a, 3), instant_from_us(2'500'000));
      std::vector<uint8_t> buf(2048);
      PacketSlot slot{buf, 0};
      ASSERT_EQ(tap.receive(std::span(&slot, 1), instant_from_us(3'000'001)), 1u);
      EXPECT_EQ(tap.packets_written(), 3u);
    }  // closing the tap flushes the file
  }
  void TearDown() override { std::remove(path_.c_str()); }

  std::string path_;
  MemoryLink link_;
  std::vector<uint8_t> out1_, out2_, in_;
};

TEST_F(PcapTapTest, FileHeaderSaysLinktypeRaw) {
  std::ifstream f(path_, std::ios::binary);
  std::vector<uint8_t> hdr(24);
  ASSERT_TRUE(f.read(reinterpret_cast<char*>(hdr.data()), 24));
  // Host-order magic 0xa1b2c3d4 (microsecond stamps); link type at offset 20 is 101.
  uint32_t magic, linktype;
  std::memcpy(&magic, hdr.data(), 4);
  std::memcpy(&linktype, hdr.data() + 20, 4);
  EXPECT_EQ(magic, 0xa1b2c3d4u);
  EXPECT_EQ(linktype, 101u);
}

TEST_F(PcapTapTest, LibpcapReadsBackEveryPacketWithItsTime) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path_.c_str(), err);
  ASSERT_NE(p, nullptr) << err;
  EXPECT_EQ(pcap_datalink(p), DLT_RAW);
  std::vector<Record> records;
  pcap_pkthdr* hdr;
  const u_char* data;
  while (pcap_next_ex(p, &hdr, &data) == 1) {
    EXPECT_EQ(hdr->caplen, hdr->len);
    records.push_back({int64_t{hdr->ts.tv_sec} * 1'000'000 + hdr->ts.tv_usec,
                       std::vector<uint8_t>(data, data + hdr->caplen)});
  }
  pcap_close(p);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].us, 1'500'000);
  EXPECT_EQ(records[0].bytes, out1_);
  EXPECT_EQ(records[1].us, 2'250'000);
  EXPECT_EQ(records[1].bytes, out2_);
  EXPECT_EQ(records[2].us, 3'000'001);
  EXPECT_EQ(records[2].bytes, in_);
}

TEST_F(PcapTapTest, TsharkDecodesTheFile) {
  if (::access("/usr/bin/tshark", X_OK) != 0) GTEST_SKIP() << "tshark is not installed";
  const std::string cmd = "/usr/bin/tshark -r " + path_ +
                          " -T fields -e ip.src -e ip.dst -e icmp.type -e icmp.seq 2>/dev/null";
  FILE* out = ::popen(cmd.c_str(), "r");
  ASSERT_NE(out, nullptr);
  std::string text;
  char buf[256];
  while (std::fgets(buf, sizeof buf, out) != nullptr) text += buf;
  ASSERT_EQ(::pclose(out), 0) << text;
  EXPECT_EQ(text,
            "10.77.0.2\t10.77.0.1\t8\t1\n"
            "10.77.0.2\t10.77.0.1\t8\t2\n"
            "10.77.0.1\t10.77.0.2\t8\t3\n");
}

// LINKTYPE_RAW carries both families: a reader tells them apart by the version nibble.
TEST(PcapTap, Ipv6PacketsAreRecordedAndDecoded) {
  const Ipv6Addr a(0xfd77, 0, 0, 0, 0, 0, 0, 2), b(0xfd77, 0, 0, 0, 0, 0, 0, 1);
  const uint8_t data[4] = {'u', 't', 'c', 'p'};
  const auto icmp = wire::Icmpv6Repr::echo_request(0x4242, 9, data);
  std::vector<uint8_t> packet(40 + icmp.total_len());
  wire::Ipv6Repr{.src = a,
                 .dst = b,
                 .next_header = wire::ipv6_next::kIcmpv6,
                 .payload_len = static_cast<uint16_t>(icmp.total_len())}
      .emit(packet);
  icmp.emit(std::span(packet).subspan(40), a, b);
  const std::string path = temp_path("ipv6");
  MemoryLink link;
  {
    PcapTap tap(link.a(), path);
    tap.transmit_one(packet, instant_from_us(1'000'000));
  }
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  ASSERT_NE(p, nullptr) << err;
  pcap_pkthdr* hdr;
  const u_char* got;
  ASSERT_EQ(pcap_next_ex(p, &hdr, &got), 1);
  EXPECT_EQ(std::vector<uint8_t>(got, got + hdr->caplen), packet);
  pcap_close(p);
  if (::access("/usr/bin/tshark", X_OK) == 0) {
    const std::string cmd = "/usr/bin/tshark -r " + path +
                            " -T fields -e ipv6.src -e ipv6.dst -e icmpv6.type -e "
                            "icmpv6.echo.sequence_number 2>/dev/null";
    FILE* out = ::popen(cmd.c_str(), "r");
    ASSERT_NE(out, nullptr);
    std::string text;
    char buf[256];
    while (std::fgets(buf, sizeof buf, out) != nullptr) text += buf;
    EXPECT_EQ(::pclose(out), 0) << text;
    EXPECT_EQ(text, "fd77::2\tfd77::1\t128\t9\n");
  }
  std::remove(path.c_str());
}

TEST(PcapTap, UnwritablePathIsAClearError) {
  MemoryLink link;
  try {
    PcapTap tap(link.a(), "/nonexistent/dir/x.pcap");
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/x.pcap"), std::string::npos);
  }
}

TEST(PcapTapCapabilities, PassesTheInnerDevicesButNoScatterRead) {
  // A record needs each packet whole, so the tap never offers scatter reads; what else the
  // inner device states passes through (the tap neither copies nor alters packets).
  MemoryLink link(MemoryLinkConfig{.mtu = 9000});
  test_support::ScatterDevice scatter(link.a());
  ASSERT_TRUE(scatter.capabilities().scatter_receive);
  const std::string path = temp_path("capabilities");
  {
    PcapTap tap(scatter, path);
    const DeviceCapabilities c = tap.capabilities();
    EXPECT_EQ(c.mtu, 9000u);
    EXPECT_FALSE(c.scatter_receive);
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace utcp::dev
