// SPDX-License-Identifier: BSD-2-Clause
// The fake-IP pool and DNS server (tools/proxy/fake_ip_pool.hpp, fake_ip_dns.hpp): a name keeps
// its address, addresses map back to names, the pool is bounded and reuses the least recently
// used address when full, the network/broadcast-like addresses are never handed out, and both
// families answer through DNS.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

#include "dns_message.hpp"
#include "fake_ip_dns.hpp"
#include "fake_ip_pool.hpp"

namespace utcp::proxy {
namespace {

TEST(FakeIpPool, NameKeepsItsAddressAndMapsBack) {
  FakeIpPool pool(*IpPrefix::parse("198.18.0.0/15"));
  const IpAddr a = pool.assign("example.com");
  const IpAddr b = pool.assign("example.org");
  EXPECT_NE(a, b);
  EXPECT_TRUE(pool.contains(a));
  EXPECT_EQ(a, *IpAddr::parse("198.18.0.1"));  // the network address is skipped
  EXPECT_EQ(pool.assign("EXAMPLE.com."), a);   // RFC 4343: case and the root dot do not matter
  EXPECT_EQ(pool.name_of(a), "example.com");
  EXPECT_EQ(pool.name_of(b), "example.org");
  EXPECT_FALSE(pool.name_of(*IpAddr::parse("198.18.0.200")));  // in the pool, not handed out
  EXPECT_FALSE(pool.name_of(*IpAddr::parse("10.0.0.1")));      // outside it
  EXPECT_EQ(pool.size(), 2u);
}

TEST(FakeIpPool, NeverHandsOutNetworkOrBroadcastLikeAddresses) {
  FakeIpPool pool(*IpPrefix::parse("10.9.0.0/22"));  // 1024 addresses
  std::set<IpAddr> seen;
  for (int i = 0; i < 1016; ++i) {  // 4 x 254 usable: x.0 and x.255 of each /24 skipped
    const IpAddr a = pool.assign("n" + std::to_string(i));
    ASSERT_TRUE(pool.contains(a));
    const uint8_t last = static_cast<uint8_t>(a.v4().value);
    ASSERT_NE(last, 0) << a.to_string();
    ASSERT_NE(last, 255) << a.to_string();
    ASSERT_TRUE(seen.insert(a).second) << "handed out twice: " << a.to_string();
  }
  EXPECT_EQ(pool.reused(), 0u);
  pool.assign("one-more");  // the range is used up: the oldest name gives its address up
  EXPECT_EQ(pool.reused(), 1u);
  EXPECT_FALSE(pool.name_of(*IpAddr::parse("10.9.0.1")) == "n0");
  EXPECT_EQ(pool.name_of(*IpAddr::parse("10.9.0.1")), "one-more");
}

TEST(FakeIpPool, LruReuseKeepsNamesInUse) {
  FakeIpPool pool(*IpPrefix::parse("198.18.0.0/15"), 3);  // at most three names
  const IpAddr a = pool.assign("a");
  const IpAddr b = pool.assign("b");
  const IpAddr c = pool.assign("c");
  EXPECT_EQ(pool.assign("a"), a);  // "a" is in use again: "b" is now the oldest
  const IpAddr d = pool.assign("d");
  EXPECT_EQ(d, b);  // b's address went to d
  EXPECT_EQ(pool.name_of(b), "d");
  EXPECT_EQ(pool.name_of(a), "a");
  EXPECT_EQ(pool.name_of(c), "c");
  EXPECT_EQ(pool.size(), 3u);
  EXPECT_EQ(pool.reused(), 1u);
  const IpAddr b2 = pool.assign("b");  // b comes back: it takes the oldest (c)
  EXPECT_EQ(b2, c);
  EXPECT_FALSE(pool.name_of(c) == "c");
}

TEST(FakeIpPool, Ipv6PoolSkipsTheAnycastAndAllOnesAddresses) {
  FakeIpPool pool(*IpPrefix::parse("fc00:18::/126"));  // four addresses: ::1 and ::2 usable
  const IpAddr a = pool.assign("v6-a");
  const IpAddr b = pool.assign("v6-b");
  EXPECT_EQ(a, *IpAddr::parse("fc00:18::1"));
  EXPECT_EQ(b, *IpAddr::parse("fc00:18::2"));
  EXPECT_EQ(pool.name_of(b), "v6-b");
  EXPECT_EQ(pool.assign("v6-c"), a);  // full: "v6-a" (oldest) gives up ::1
  EXPECT_EQ(pool.name_of(a), "v6-c");
  // A prefix given with host bits set still starts at its network address.
  FakeIpPool odd(*IpPrefix::parse("fc00:18::1234/96"));
  EXPECT_EQ(odd.assign("x"), *IpAddr::parse("fc00:18::1"));
}

TEST(FakeIpPool, RefusesAPoolWithoutUsableAddresses) {
  EXPECT_THROW(FakeIpPool(*IpPrefix::parse("198.18.0.0/31")), std::invalid_argument);
  EXPECT_THROW(FakeIpPool(*IpPrefix::parse("fc00::1/128")), std::invalid_argument);
  EXPECT_NO_THROW(FakeIpPool(*IpPrefix::parse("198.18.0.0/30")));
}

// The DNS side: answers carry pool addresses of the asked family, with the question echoed.
struct Answer {
  dns::Rcode rcode;
  uint16_t ancount;
  std::vector<IpAddr> addrs;
};

Answer decode(const std::vector<uint8_t>& r, size_t question_end) {
  Answer a{
      static_cast<dns::Rcode>(r.at(3) & 0x0f), static_cast<uint16_t>(r.at(6) << 8 | r.at(7)), {}};
  size_t at = question_end;
  for (uint16_t i = 0; i < a.ancount; ++i) {
    const uint16_t rdlength = static_cast<uint16_t>(r.at(at + 10) << 8 | r.at(at + 11));
    if (rdlength == 4) {
      a.addrs.push_back(Ipv4Addr(r.at(at + 12), r.at(at + 13), r.at(at + 14), r.at(at + 15)));
    } else {
      a.addrs.push_back(Ipv6Addr::from_bytes(&r.at(at + 12)));
    }
    at += 12 + rdlength;
  }
  EXPECT_EQ(at, r.size());
  return a;
}

TEST(FakeIpDns, AnswersBothFamiliesFromTheirPools) {
  FakeIpDns dns(*IpPrefix::parse("198.18.0.0/15"), *IpPrefix::parse("fc00:18::/96"));
  const auto qa = *dns::build_query(1, "host.example", dns::kTypeA);
  const auto qaaaa = *dns::build_query(2, "host.example", dns::kTypeAaaa);
  const Answer a = decode(dns.answer(qa), qa.size());
  const Answer aaaa = decode(dns.answer(qaaaa), qaaaa.size());
  ASSERT_EQ(a.rcode, dns::Rcode::kNoError);
  ASSERT_EQ(a.addrs.size(), 1u);
  ASSERT_EQ(aaaa.addrs.size(), 1u);
  EXPECT_TRUE(a.addrs[0].is_v4());
  EXPECT_TRUE(aaaa.addrs[0].is_v6());
  EXPECT_EQ(dns.name_of(a.addrs[0]), "host.example");
  EXPECT_EQ(dns.name_of(aaaa.addrs[0]), "host.example");
  // Asked again: the same address (stable while in use).
  EXPECT_EQ(decode(dns.answer(qa), qa.size()).addrs, a.addrs);
  EXPECT_EQ(dns.answered(), 3u);
}

TEST(FakeIpDns, OtherTypesClassesOpcodesAndGarbage) {
  FakeIpDns dns(*IpPrefix::parse("198.18.0.0/15"), *IpPrefix::parse("fc00:18::/96"));
  auto mx = *dns::build_query(3, "mail.example", 15);
  const auto r = dns.answer(mx);
  EXPECT_EQ(r.size(), mx.size());  // NODATA: the question alone
  EXPECT_EQ(decode(r, mx.size()).rcode, dns::Rcode::kNoError);
  const auto root = *dns::build_query(8, "", dns::kTypeA);  // the root: no fake address
  const Answer none = decode(dns.answer(root), root.size());
  EXPECT_EQ(none.rcode, dns::Rcode::kNoError);
  EXPECT_EQ(none.ancount, 0);
  auto chaos = *dns::build_query(4, "version.bind", 16);
  chaos[chaos.size() - 1] = 3;  // class CH
  EXPECT_EQ(decode(dns.answer(chaos), chaos.size()).rcode, dns::Rcode::kNotImp);
  auto status = *dns::build_query(5, "x", dns::kTypeA);
  status[2] = 0x10;  // opcode 2 (STATUS)
  const auto notimp = dns.answer(status);
  ASSERT_EQ(notimp.size(), dns::kHeaderSize);
  EXPECT_EQ(notimp[3] & 0x0f, static_cast<int>(dns::Rcode::kNotImp));
  EXPECT_EQ(notimp[2] >> 3 & 0x0f, 2);  // opcode echoed
  std::vector<uint8_t> bad = {0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
  const auto formerr = dns.answer(bad);
  ASSERT_EQ(formerr.size(), dns::kHeaderSize);
  EXPECT_EQ(formerr[3] & 0x0f, static_cast<int>(dns::Rcode::kFormErr));
  EXPECT_EQ(dns.malformed(), 1u);
  EXPECT_TRUE(dns.answer(std::vector<uint8_t>(11, 0)).empty());  // no header: no answer
  auto response = *dns::build_query(6, "x", dns::kTypeA);
  response[2] |= 0x80;
  EXPECT_TRUE(dns.answer(response).empty());  // never answer a response
}

TEST(FakeIpDns, ReverseNames) {
  EXPECT_EQ(FakeIpDns::reverse_address("4.3.18.198.IN-ADDR.arpa."), *IpAddr::parse("198.18.3.4"));
  EXPECT_EQ(FakeIpDns::reverse_address(
                "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.1.0.0.0.0.c.f.ip6.arpa"),
            *IpAddr::parse("fc00:18::2"));
  EXPECT_FALSE(FakeIpDns::reverse_address("256.3.18.198.in-addr.arpa"));
  EXPECT_FALSE(FakeIpDns::reverse_address("3.18.198.in-addr.arpa"));
  EXPECT_FALSE(FakeIpDns::reverse_address("x.3.18.198.in-addr.arpa"));
  EXPECT_FALSE(FakeIpDns::reverse_address("example.com"));
  EXPECT_FALSE(FakeIpDns::reverse_address(
      "g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.1.0.0.0.0.c.f.ip6.arpa"));
}

TEST(FakeIpDns, PtrOfAFakeAddressNamesIt) {
  FakeIpDns dns(*IpPrefix::parse("198.18.0.0/15"), *IpPrefix::parse("fc00:18::/96"));
  const auto qa = *dns::build_query(1, "Host.Example", dns::kTypeA);
  const Answer a = decode(dns.answer(qa), qa.size());
  ASSERT_EQ(a.addrs.size(), 1u);
  const uint32_t v = a.addrs[0].v4().value;
  const std::string reverse = std::to_string(v & 0xff) + "." + std::to_string(v >> 8 & 0xff) + "." +
                              std::to_string(v >> 16 & 0xff) + "." + std::to_string(v >> 24) +
                              ".in-addr.arpa";
  const auto ptr = *dns::build_query(2, reverse, dns::kTypePtr);
  const auto r = dns.answer(ptr);
  ASSERT_GT(r.size(), ptr.size() + 12);
  EXPECT_EQ(r[3] & 0x0f, 0);
  EXPECT_EQ(r[7], 1);  // one answer: PTR host.example (the pool keeps names in lower case)
  const std::vector<uint8_t> rdata(r.begin() + static_cast<long>(ptr.size() + 12), r.end());
  EXPECT_EQ(rdata, *dns::encode_name("host.example"));
  EXPECT_EQ(r[ptr.size() + 3], dns::kTypePtr);
  // An address of the pool that stands for no name: NXDOMAIN; outside the pools: NODATA.
  const auto unknown = *dns::build_query(3, "9.9.18.198.in-addr.arpa", dns::kTypePtr);
  EXPECT_EQ(dns.answer(unknown)[3] & 0x0f, static_cast<int>(dns::Rcode::kNxDomain));
  const auto other = *dns::build_query(4, "1.0.0.10.in-addr.arpa", dns::kTypePtr);
  const auto nodata = dns.answer(other);
  EXPECT_EQ(nodata[3] & 0x0f, 0);
  EXPECT_EQ(nodata.size(), other.size());
}

}  // namespace
}  // namespace utcp::proxy
