// SPDX-License-Identifier: BSD-2-Clause
#include "dev/netlink_request.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace utcp::dev {

NetlinkRequest::NetlinkRequest(uint16_t type, uint16_t flags, const void* family_header,
                               size_t header_len) {
  nlmsghdr* h = header();
  h->nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(header_len));
  h->nlmsg_type = type;
  h->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  h->nlmsg_seq = 1;
  std::memcpy(NLMSG_DATA(h), family_header, header_len);  // header_len is a few dozen bytes
}

bool NetlinkRequest::add_attr(uint16_t type, const void* data, size_t len) {
  nlmsghdr* h = header();
  const size_t at = NLMSG_ALIGN(h->nlmsg_len);
  const size_t attr_len = RTA_LENGTH(len);
  if (at + RTA_ALIGN(attr_len) > sizeof buf_) return false;
  auto* rta = reinterpret_cast<rtattr*>(buf_ + at);
  rta->rta_type = type;
  rta->rta_len = static_cast<unsigned short>(attr_len);
  std::memcpy(RTA_DATA(rta), data, len);
  h->nlmsg_len = static_cast<uint32_t>(at + RTA_ALIGN(attr_len));
  return true;
}

int netlink_transact(NetlinkRequest& request, const NetlinkReplyFn& on_reply) {
  nlmsghdr* h = request.header();
  const bool dump = (h->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  // The kernel acknowledges every request with NLM_F_ACK (an NLMSG_ERROR whose error is 0 on
  // success, -errno otherwise), after the reply of a GET; a dump ends with NLMSG_DONE instead.
  if (!dump) h->nlmsg_flags |= NLM_F_ACK;
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return errno;
  // Bounded all the same, so set-up cannot hang on a kernel that never answers.
  const timeval limit{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  int err = 0;
  if (::sendto(fd, h, h->nlmsg_len, 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) <
      0) {
    ::close(fd);
    return errno;
  }
  // A dump's datagrams hold many messages; 32 KB is what iproute2 reads at once.
  std::vector<char> buf(32768);
  bool done = false;
  while (!done) {
    ssize_t n;
    do {
      n = ::recv(fd, buf.data(), buf.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      err = errno;
      break;
    }
    if (n == 0) {
      err = EPROTO;
      break;
    }
    auto len = static_cast<unsigned>(n);
    for (const auto* r = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(r, len);
         r = NLMSG_NEXT(r, len)) {
      if (r->nlmsg_seq != h->nlmsg_seq) continue;  // not an answer to this request
      if (r->nlmsg_type == NLMSG_DONE) {
        done = true;
        break;
      }
      if (r->nlmsg_type == NLMSG_ERROR) {
        err = r->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))
                  ? EPROTO
                  : -static_cast<const nlmsgerr*>(NLMSG_DATA(r))->error;
        done = true;
        break;
      }
      if (on_reply) on_reply(*r);
    }
  }
  ::close(fd);
  return err;
}

void for_each_rtattr(const nlmsghdr& reply, size_t header_len,
                     const std::function<void(const rtattr&)>& fn) {
  if (reply.nlmsg_len < NLMSG_LENGTH(header_len)) return;
  auto len = static_cast<int>(reply.nlmsg_len - NLMSG_LENGTH(header_len));
  const auto* rta = reinterpret_cast<const rtattr*>(static_cast<const char*>(NLMSG_DATA(&reply)) +
                                                    NLMSG_ALIGN(header_len));
  for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) fn(*rta);
}

}  // namespace utcp::dev
