// SPDX-License-Identifier: BSD-2-Clause
#include "tcp/reset_generator.hpp"

namespace utcp::tcp {

std::optional<wire::TcpRepr> reset_for_unmatched(const wire::TcpRepr& in) {
  using namespace wire::tcp_flag;
  // RFC 9293 §3.10.7.1: an incoming segment containing a RST is discarded.
  if (in.has(kRst)) return std::nullopt;
  wire::TcpRepr r;
  r.src_port = in.dst_port;
  r.dst_port = in.src_port;
  if (in.has(kAck)) {
    r.seq = in.ack;
    r.flags = kRst;
  } else {
    r.seq = wire::SeqNum(0);
    r.ack = in.seq + in.seq_len();
    r.flags = kRst | kAck;
  }
  return r;
}

}  // namespace utcp::tcp
