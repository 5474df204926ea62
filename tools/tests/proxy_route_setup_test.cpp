// SPDX-License-Identifier: BSD-2-Clause
// utcp-proxy's routes (tools/proxy/route_setup.hpp) and the rtnetlink calls under them
// (src/dev/netlink_route.hpp). Each test that touches routes runs in a network namespace of
// its own (unshare(CLONE_NEWNET): it goes away with the process, even on failure) holding two
// TUN devices: "up0", standing for the host's uplink (10.90.0.1/24, sometimes the default
// route), and "pt0", the proxy's TUN. Packets are read back from the devices themselves, so
// "never routed back into the TUN" is checked on the wire. Skipped without root.
#include <gtest/gtest.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "dev/netlink_route.hpp"
#include "route_setup.hpp"
#include "utcp/tun.hpp"

namespace utcp::proxy {
namespace {

IpPrefix prefix(const char* text) {
  return *IpPrefix::parse(text);
}

IpAddr addr(const char* text) {
  return *IpAddr::parse(text);
}

const IpAddr kUpstream = addr("203.0.113.5");  // TEST-NET-3, only inside the namespace

// The interface the kernel would send a packet to `a` by ("" if none).
std::string route_dev(const IpAddr& a) {
  int err = 0;
  const auto r = dev::netlink_route_lookup(a, 0, err);
  return r ? r->interface : "";
}

class RouteSetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (a network namespace, TUN devices)";
    if (::unshare(CLONE_NEWNET) != 0) GTEST_SKIP() << "cannot create a network namespace";
    dev::TunOptions up;
    up.name = "up0";
    up.kernel_address = Ipv4Addr(10, 90, 0, 1);
    up.offload = false;
    uplink_ = std::make_unique<dev::TunDevice>(up);
    dev::TunOptions pt;
    pt.name = "pt0";
    pt.kernel_address = Ipv4Addr(10, 77, 0, 1);
    pt.kernel_address6 = Ipv6Addr(0xfd77, 0, 0, 0, 0, 0, 0, 1);
    pt.offload = false;
    tun_ = std::make_unique<dev::TunDevice>(pt);
    config_.upstream = UpstreamKind::kSocks5;
    config_.upstream_server = Endpoint{kUpstream, 1080};
  }

  void add_default_route() {
    ASSERT_EQ(
        dev::netlink_add_route(static_cast<int>(::if_nametoindex("up0")), prefix("0.0.0.0/0")), 0);
  }

  // Sends one UDP datagram to kUpstream:1080 from a socket `setup` prepared (if given) and
  // returns the device it came out of: "up0", "pt0" or "" (none within a second).
  std::string datagram_leaves_by(const RouteSetup* setup) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd, 0);
    std::string error;
    if (setup != nullptr) {
      EXPECT_TRUE(setup->prepare_upstream_socket(fd, error)) << error;
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(1080);
    std::memcpy(&to.sin_addr, kUpstream.bytes16().data() + 12, 4);
    const char payload[] = "utcp-route-test";
    const ssize_t sent =
        ::sendto(fd, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    ::close(fd);
    if (sent < 0) return "";
    pollfd fds[2] = {{uplink_->fd(), POLLIN, 0}, {tun_->fd(), POLLIN, 0}};
    for (int round = 0; round < 20; ++round) {
      if (::poll(fds, 2, 50) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        uint8_t buf[2048];
        ssize_t n;
        while ((n = ::read(fds[i].fd, buf, sizeof buf)) > 0) {
          // IPv4, UDP, to kUpstream, carrying the payload (the kernel's own IPv6 chatter on
          // pt0, router solicitations and the like, is skipped).
          if (n >= 28 && (buf[0] >> 4) == 4 && buf[9] == IPPROTO_UDP &&
              std::memcmp(buf + 16, kUpstream.bytes16().data() + 12, 4) == 0 &&
              std::memcmp(buf + 28, payload, sizeof payload) == 0) {
            return i == 0 ? "up0" : "pt0";
          }
        }
      }
    }
    return "";
  }

  std::unique_ptr<dev::TunDevice> uplink_;
  std::unique_ptr<dev::TunDevice> tun_;
  ProxyConfig config_;
};

TEST_F(RouteSetupTest, LookupSeesTheDefaultRouteAndItsPrefixLength) {
  int err = 0;
  EXPECT_FALSE(dev::netlink_route_lookup(kUpstream, 0, err));
  EXPECT_EQ(err, ENETUNREACH);
  add_default_route();
  const auto r = dev::netlink_route_lookup(kUpstream, 0, err);
  ASSERT_TRUE(r) << std::strerror(err);
  EXPECT_EQ(r->interface, "up0");
  EXPECT_EQ(r->matched_prefix_len, 0);
  EXPECT_EQ(r->type, RTN_UNICAST);
  const auto d = dev::netlink_default_route(false);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->interface, "up0");
  EXPECT_FALSE(dev::netlink_default_route(true));
  const auto local = dev::netlink_route_lookup(addr("10.90.0.1"), 0, err);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->type, RTN_LOCAL);
  EXPECT_EQ(
      dev::netlink_delete_route(static_cast<int>(::if_nametoindex("pt0")), prefix("198.18.0.0/15")),
      ESRCH);
}

TEST_F(RouteSetupTest, AMultipathDefaultRouteNamesItsFirstNextHop) {
  // iproute2 builds the RTA_MULTIPATH attribute; this namespace is the test's own.
  if (std::system("ip route add default nexthop dev up0 nexthop dev pt0 2>/dev/null") != 0) {
    GTEST_SKIP() << "ip cannot add a multipath route here";
  }
  const auto d = dev::netlink_default_route(false);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->interface, "up0");
}

TEST_F(RouteSetupTest, AutoRouteCapturesEverythingButTheProxysOwnSockets) {
  add_default_route();
  config_.auto_route = true;
  {
    const RouteSetup routes(config_, "pt0");
    EXPECT_EQ(routes.outbound_interface(), "up0");
    EXPECT_EQ(routes.routes(), RouteSetup::auto_route_prefixes(true));
    EXPECT_EQ(route_dev(addr("198.51.100.7")), "pt0");
    EXPECT_EQ(route_dev(addr("8.8.8.8")), "pt0");
    EXPECT_EQ(route_dev(addr("2001:db8::1")), "pt0");
    EXPECT_EQ(route_dev(addr("10.90.0.7")), "up0");  // the more specific link route still wins
    // The upstream server itself: a plain socket would loop into the TUN, a prepared one not.
    EXPECT_EQ(datagram_leaves_by(nullptr), "pt0");
    EXPECT_EQ(datagram_leaves_by(&routes), "up0");
  }
  // Undone: the default route carries everything again.
  EXPECT_EQ(route_dev(addr("198.51.100.7")), "up0");
  EXPECT_EQ(route_dev(addr("2001:db8::1")), "");
  EXPECT_EQ(datagram_leaves_by(nullptr), "up0");
}

TEST_F(RouteSetupTest, AutoRouteRefusesWhenTheUpstreamWouldBeCaptured) {
  config_.auto_route = true;  // no default route: nothing else reaches 203.0.113.5
  try {
    const RouteSetup routes(config_, "pt0");
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("203.0.113.5"), std::string::npos) << what;
    EXPECT_NE(what.find("--interface"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  EXPECT_EQ(route_dev(addr("198.51.100.7")), "");  // nothing was added
}

TEST_F(RouteSetupTest, ARouteCoveringTheUpstreamIsRefusedWithoutAnotherWayOut) {
  config_.routes = {prefix("203.0.113.0/24")};
  EXPECT_THROW(RouteSetup(config_, "pt0"), std::runtime_error);
  add_default_route();
  const RouteSetup routes(config_, "pt0");
  EXPECT_EQ(routes.outbound_interface(), "up0");
  EXPECT_EQ(datagram_leaves_by(&routes), "up0");
  EXPECT_EQ(datagram_leaves_by(nullptr), "pt0");
}

TEST_F(RouteSetupTest, RoutesAreCanonicalOnceEachAndBothFamilies) {
  config_.upstream_server = Endpoint{addr("10.90.0.5"), 1080};
  config_.routes = {prefix("10.81.0.9/24"), prefix("10.81.0.0/24"), prefix("2001:db8::5/32")};
  config_.dns = DnsMode::kFakeIp;
  const RouteSetup routes(config_, "pt0");
  EXPECT_EQ(routes.routes(),
            (std::vector<IpPrefix>{prefix("10.81.0.0/24"), prefix("2001:db8::/32"),
                                   prefix("198.18.0.0/15"), prefix("fc00:18::/96")}));
  EXPECT_EQ(route_dev(addr("10.81.0.200")), "pt0");
  EXPECT_EQ(route_dev(addr("2001:db8:ffff::1")), "pt0");
  EXPECT_EQ(route_dev(addr("198.19.0.1")), "pt0");
  // The upstream server is not covered: upstream sockets are left unbound.
  EXPECT_EQ(routes.outbound_interface(), "");
}

TEST_F(RouteSetupTest, DirectAutoRouteLeavesByTheDefaultRoute) {
  config_.upstream = UpstreamKind::kDirect;
  config_.auto_route = true;
  EXPECT_THROW(RouteSetup(config_, "pt0"), std::runtime_error);  // no default route
  add_default_route();
  const RouteSetup routes(config_, "pt0");
  EXPECT_EQ(routes.outbound_interface(), "up0");
  EXPECT_EQ(routes.outbound_interface6(), "");
  EXPECT_EQ(datagram_leaves_by(&routes), "up0");
}

TEST_F(RouteSetupTest, DirectRoutesLeaveByTheInterfaceThePrefixUsedBefore) {
  config_.upstream = UpstreamKind::kDirect;
  config_.routes = {prefix("10.81.0.0/24")};
  EXPECT_THROW(RouteSetup(config_, "pt0"), std::runtime_error);  // 10.81.0.0/24: no route
  // A wider route through the uplink, no default route.
  ASSERT_EQ(
      dev::netlink_add_route(static_cast<int>(::if_nametoindex("up0")), prefix("10.81.0.0/16")), 0);
  const RouteSetup routes(config_, "pt0");
  EXPECT_EQ(routes.outbound_interface(), "up0");
  EXPECT_EQ(route_dev(addr("10.81.0.9")), "pt0");
  EXPECT_EQ(route_dev(addr("10.81.1.9")), "up0");
}

TEST_F(RouteSetupTest, InterfaceAndFwmarkAreAppliedToUpstreamSockets) {
  config_.auto_route = true;
  config_.outbound_interface = "up0";  // given: no default route needed
  config_.fwmark = 0x17;
  const RouteSetup routes(config_, "pt0");
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  std::string error;
  ASSERT_TRUE(routes.prepare_upstream_socket(fd, error)) << error;
  char dev[IFNAMSIZ] = {};
  socklen_t len = sizeof dev;
  ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &len), 0);
  EXPECT_STREQ(dev, "up0");
  uint32_t mark = 0;
  len = sizeof mark;
  ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &len), 0);
  EXPECT_EQ(mark, 0x17u);
  ::close(fd);
  EXPECT_FALSE(routes.prepare_upstream_socket(-1, error));
  EXPECT_FALSE(error.empty());
}

TEST_F(RouteSetupTest, BadInterfacesAreRefused) {
  config_.outbound_interface = "nosuch0";
  EXPECT_THROW(RouteSetup(config_, "pt0"), std::runtime_error);
  config_.outbound_interface = "pt0";
  EXPECT_THROW(RouteSetup(config_, "pt0"), std::runtime_error);
  config_.outbound_interface.clear();
  EXPECT_THROW(RouteSetup(config_, "nosuch1"), std::runtime_error);
}

TEST_F(RouteSetupTest, AnExistingRouteIsReportedAndNothingIsLeft) {
  add_default_route();
  ASSERT_EQ(
      dev::netlink_add_route(static_cast<int>(::if_nametoindex("up0")), prefix("10.82.0.0/16")), 0);
  config_.routes = {prefix("10.81.0.0/16"), prefix("10.82.0.0/16")};
  try {
    const RouteSetup routes(config_, "pt0");
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("10.82.0.0/16"), std::string::npos) << e.what();
  }
  EXPECT_EQ(route_dev(addr("10.81.0.1")), "up0");  // the first one was taken back
}

TEST(RouteSetupPrefixes, SplitDefaultAndCanonicalForm) {
  const auto v4 = RouteSetup::auto_route_prefixes(false);
  ASSERT_EQ(v4.size(), 2u);
  const auto both = RouteSetup::auto_route_prefixes(true);
  ASSERT_EQ(both.size(), 4u);
  // Together they cover every address of both families, each exactly once.
  for (const char* a : {"0.0.0.0", "127.255.255.255", "128.0.0.0", "255.255.255.255",
                        "::", "7fff::1", "8000::", "ffff::1"}) {
    int n = 0;
    for (const IpPrefix& p : both) n += p.contains(addr(a)) ? 1 : 0;
    EXPECT_EQ(n, 1) << a;
  }
  EXPECT_EQ(RouteSetup::canonical(prefix("10.81.7.9/20")), prefix("10.81.0.0/20"));
  EXPECT_EQ(RouteSetup::canonical(prefix("2001:db8:ffff::1/33")), prefix("2001:db8:8000::/33"));
  EXPECT_EQ(RouteSetup::canonical(prefix("1.2.3.4/0")), prefix("0.0.0.0/0"));
  EXPECT_EQ(RouteSetup::canonical(prefix("1.2.3.4/32")), prefix("1.2.3.4/32"));
}

}  // namespace
}  // namespace utcp::proxy
