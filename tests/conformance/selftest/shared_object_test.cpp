// libutcp_packetdrill.so as packetdrill uses it: dlopen, packetdrill_interface_init, and the
// table's functions driven by hand, including a blocking accept() on a second thread.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <thread>
#include <vector>

#include "utcp/packetdrill_interface.h"
#include "wire/checksum.hpp"
#include "wire/endian.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace {

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

  const wire::Ipv4Addr local{192, 168, 0, 1};
  const wire::Ipv4Addr remote{192, 0, 2, 1};
  void* dl_ = nullptr;
  packetdrill_interface_init_t init_ = nullptr;
  packetdrill_interface ifc_{};
};

TEST_F(SharedObject, FillsEveryPointer) {
  init_("", &ifc_);
  ASSERT_NE(ifc_.userdata, nullptr);
  // Every slot after userdata is a function pointer; packetdrill never checks for NULL.
  const auto* slots = reinterpret_cast<void* const*>(&ifc_);
  const size_t n = sizeof ifc_ / sizeof(void*);
  EXPECT_EQ(n, 33u);
  for (size_t i = 1; i < n; ++i) EXPECT_NE(slots[i], nullptr) << "slot " << i;
  EXPECT_EQ(ifc_.epoll_create(ifc_.userdata, 1), -1);
  EXPECT_EQ(errno, ENOSYS);
  int fds[2];
  EXPECT_EQ(ifc_.pipe(ifc_.userdata, fds), -1);
  EXPECT_EQ(errno, ENOSYS);
}

TEST_F(SharedObject, BadFlagsLeaveAPortThatRefusesCalls) {
  init_("no_such_flag=1", &ifc_);
  EXPECT_EQ(ifc_.userdata, nullptr);
  EXPECT_EQ(ifc_.socket(ifc_.userdata, AF_INET, SOCK_STREAM, 0), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(SharedObject, VirtualClockMovesOnlyWithUsleep) {
  init_("", &ifc_);
  timeval a{}, b{};
  ifc_.gettimeofday(ifc_.userdata, &a, nullptr);
  ifc_.usleep(ifc_.userdata, 250'000);
  ifc_.gettimeofday(ifc_.userdata, &b, nullptr);
  const long long d = (b.tv_sec - a.tv_sec) * 1'000'000LL + (b.tv_usec - a.tv_usec);
  EXPECT_EQ(d, 250'000);
}

TEST_F(SharedObject, HandshakeWithBlockingAcceptOnASecondThread) {
  init_("receive_wait_usecs=2000000", &ifc_);
  void* ud = ifc_.userdata;
  ASSERT_EQ(ifc_.socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP), 3);
  ASSERT_EQ(bind_local(3, 8080), 0);
  ASSERT_EQ(ifc_.listen(ud, 3, 1), 0);

  int accepted = -2;
  sockaddr_in peer{};
  std::thread t([&] {
    socklen_t len = sizeof peer;
    accepted = ifc_.accept(ud, 3, reinterpret_cast<sockaddr*>(&peer), &len);
  });
  auto blocked = reinterpret_cast<utcp_packetdrill_blocked_calls_t>(
      dlsym(dl_, "utcp_packetdrill_blocked_calls"));
  ASSERT_NE(blocked, nullptr);
  while (blocked(ud) == 0) std::this_thread::yield();

  auto syn = segment(wire::tcp_flag::kSyn, 100, 0);
  ASSERT_EQ(ifc_.netdev_send(ud, syn.data(), syn.size()), 0);
  std::vector<uint8_t> buf;
  auto synack = receive(buf);
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->flags, wire::tcp_flag::kSyn | wire::tcp_flag::kAck);
  EXPECT_EQ(synack->ack.raw(), 101u);
  EXPECT_EQ(accepted, -2);  // still blocked: the handshake is not complete

  auto ack = segment(wire::tcp_flag::kAck, 101, synack->seq.raw() + 1);
  ASSERT_EQ(ifc_.netdev_send(ud, ack.data(), ack.size()), 0);
  t.join();
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ(ntohl(peer.sin_addr.s_addr), remote.value);  // accept() fills in the peer
  EXPECT_EQ(ntohs(peer.sin_port), 40000);

  // Nothing else to send: netdev_receive reports an empty packet after its deadline.
  long long at = 0;
  EXPECT_FALSE(receive(buf, &at));
  EXPECT_EQ(buf.size(), 2048u);
}

// setsockopt(TCP_MAXSEG) and the variadic ioctl() reach the facade through the table.
TEST_F(SharedObject, MaxsegAndIoctlPassThroughTheTable) {
  init_("", &ifc_);
  void* ud = ifc_.userdata;
  ASSERT_EQ(ifc_.socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP), 3);
  ASSERT_EQ(bind_local(3, 8080), 0);
  const int maxseg = 700;
  ASSERT_EQ(ifc_.setsockopt(ud, 3, IPPROTO_TCP, TCP_MAXSEG, &maxseg, sizeof maxseg), 0);
  ASSERT_EQ(ifc_.listen(ud, 3, 1), 0);
  int v = -1;
  EXPECT_EQ(ifc_.ioctl(ud, 3, FIONREAD, &v), -1);  // Linux: EINVAL on a listener
  EXPECT_EQ(errno, EINVAL);

  auto syn = segment(wire::tcp_flag::kSyn, 100, 0);
  ASSERT_EQ(ifc_.netdev_send(ud, syn.data(), syn.size()), 0);
  std::vector<uint8_t> buf;
  auto synack = receive(buf);
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->options.mss, std::optional<uint16_t>(700));
  auto ack = segment(wire::tcp_flag::kAck, 101, synack->seq.raw() + 1);
  ASSERT_EQ(ifc_.netdev_send(ud, ack.data(), ack.size()), 0);
  ASSERT_EQ(ifc_.accept(ud, 3, nullptr, nullptr), 4);
  const uint8_t text[10] = {};
  auto data =
      segment(wire::tcp_flag::kAck | wire::tcp_flag::kPsh, 101, synack->seq.raw() + 1, text);
  ASSERT_EQ(ifc_.netdev_send(ud, data.data(), data.size()), 0);
  EXPECT_EQ(ifc_.ioctl(ud, 4, FIONREAD, &v), 0);
  EXPECT_EQ(v, 10);
  EXPECT_EQ(ifc_.ioctl(ud, 4, SIOCATMARK, &v), 0);
  EXPECT_EQ(v, 0);
  socklen_t len = sizeof v;
  EXPECT_EQ(ifc_.getsockopt(ud, 4, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
  EXPECT_EQ(v, 700);  // no timestamps on this connection: the whole MSS is payload
}

TEST_F(SharedObject, RealTimeFlagUsesTheRealClock) {
  init_("real_time receive_wait_usecs=3000000", &ifc_);
  void* ud = ifc_.userdata;
  timeval a{}, b{};
  ifc_.gettimeofday(ud, &a, nullptr);
  ASSERT_EQ(ifc_.usleep(ud, 20'000), 0);
  ifc_.gettimeofday(ud, &b, nullptr);
  const long long d = (b.tv_sec - a.tv_sec) * 1'000'000LL + (b.tv_usec - a.tv_usec);
  EXPECT_GE(d, 20'000);
  EXPECT_LT(d, 5'000'000);  // generous: the machine may be loaded
  // Wall-clock based: close to the system's time of day.
  EXPECT_LT(std::abs(static_cast<long long>(b.tv_sec) - static_cast<long long>(time(nullptr))), 5);

  ASSERT_EQ(ifc_.socket(ud, AF_INET, SOCK_STREAM, 0), 3);
  ASSERT_EQ(bind_local(3, 8080), 0);
  ASSERT_EQ(ifc_.listen(ud, 3, 1), 0);
  auto syn = segment(wire::tcp_flag::kSyn, 1, 0);
  ASSERT_EQ(ifc_.netdev_send(ud, syn.data(), syn.size()), 0);
  std::vector<uint8_t> buf;
  long long at = 0;
  auto synack = receive(buf, &at);
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->ack.raw(), 2u);
  // No final ACK: the SYN-ACK is retransmitted one initial RTO (1 s) of real time later.
  long long again_at = 0;
  auto again = receive(buf, &again_at);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->flags, wire::tcp_flag::kSyn | wire::tcp_flag::kAck);
  EXPECT_GE(again_at - at, 900'000);
}

TEST_F(SharedObject, GarbageFromTheNetworkIsDropped) {
  init_("receive_wait_usecs=1000", &ifc_);
  void* ud = ifc_.userdata;
  const unsigned seed = 20261124;
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  ASSERT_EQ(ifc_.socket(ud, AF_INET, SOCK_STREAM, 0), 3);
  ASSERT_EQ(bind_local(3, 8080), 0);
  ASSERT_EQ(ifc_.listen(ud, 3, 1), 0);
  const auto syn = segment(wire::tcp_flag::kSyn, 1, 0);
  for (int i = 0; i < 2000; ++i) {
    // Valid packets with a few random bytes changed, and plain noise.
    std::vector<uint8_t> p = syn;
    if (i % 2) {
      p.resize(1 + rng() % 120);
      for (auto& b : p) b = static_cast<uint8_t>(rng());
    } else {
      for (int k = 0; k < 3; ++k) p[rng() % p.size()] = static_cast<uint8_t>(rng());
    }
    EXPECT_EQ(ifc_.netdev_send(ud, p.data(), p.size()), 0);
    std::vector<uint8_t> buf;
    while (receive(buf)) {
    }
  }
  // The listener still works afterwards.
  const auto good = segment(wire::tcp_flag::kSyn, 5000, 0);
  ASSERT_EQ(ifc_.netdev_send(ud, good.data(), good.size()), 0);
  std::vector<uint8_t> buf;
  std::optional<wire::TcpRepr> reply;
  while (auto r = receive(buf)) reply = r;
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->ack.raw(), 5001u);
}

TEST_F(SharedObject, BindMovesTheStackToTheNamedAddress) {
  init_("local_ip=10.0.0.1", &ifc_);
  void* ud = ifc_.userdata;
  ASSERT_EQ(ifc_.socket(ud, AF_INET, SOCK_STREAM, 0), 3);
  // 192.168.0.1, not the flag's address
  ASSERT_EQ(bind_local(3, 8080), 0);
  ASSERT_EQ(ifc_.listen(ud, 3, 1), 0);
  auto syn = segment(wire::tcp_flag::kSyn, 7, 0);
  ASSERT_EQ(ifc_.netdev_send(ud, syn.data(), syn.size()), 0);
  std::vector<uint8_t> buf;
  auto synack = receive(buf);
  ASSERT_TRUE(synack);
  EXPECT_EQ(synack->ack.raw(), 8u);
}

}  // namespace
