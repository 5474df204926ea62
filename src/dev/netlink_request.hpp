// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One rtnetlink request and its answer, shared by the address and route code
// (netlink_address.cpp, netlink_route.cpp): a message built in a fixed buffer, sent to the
// kernel, and every reply handed to a callback until the kernel's acknowledgement (or, for a
// dump, NLMSG_DONE). Linux headers only.
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstddef>
#include <cstdint>
#include <functional>

namespace utcp::dev {

// A request: a netlink header and a family header (ifaddrmsg, rtmsg, ...) followed by
// attributes, in a buffer large enough for what the address and route code sends.
class NetlinkRequest {
 public:
  NetlinkRequest(uint16_t type, uint16_t flags, const void* family_header, size_t header_len);
  // Appends an attribute (NLA/RTA alignment); false if the buffer is full.
  bool add_attr(uint16_t type, const void* data, size_t len);
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_); }

 private:
  alignas(nlmsghdr) char buf_[512] = {};
};

// Called for each reply message that is not the acknowledgement or NLMSG_DONE.
using NetlinkReplyFn = std::function<void(const nlmsghdr&)>;

// Sends `request` (NLM_F_ACK is added unless it is a dump) on a fresh NETLINK_ROUTE socket and
// reads replies, bounded by a 2 s receive timeout, until the acknowledgement or NLMSG_DONE.
// 0 on success, else the errno the kernel answered (or the socket's own).
int netlink_transact(NetlinkRequest& request, const NetlinkReplyFn& on_reply = {});

// The attributes of a reply whose family header is `header_len` bytes, each handed to `fn`.
void for_each_rtattr(const nlmsghdr& reply, size_t header_len,
                     const std::function<void(const rtattr&)>& fn);

}  // namespace utcp::dev
