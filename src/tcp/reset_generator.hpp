// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// RFC 9293 §3.10.7.1: the reply to a segment that reaches no connection (state CLOSED).
// A pure function; the stack calls it for unmatched segments and emits the result with the
// addresses swapped.
#include <optional>

#include "wire/tcp.hpp"

namespace utcp::tcp {

// nullopt when the incoming segment is itself a RST (never answer a RST). Otherwise:
// ACK set   -> <SEQ=SEG.ACK><CTL=RST>
// ACK clear -> <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
// The returned segment has its ports swapped relative to `incoming` and no payload or options.
std::optional<wire::TcpRepr> reset_for_unmatched(const wire::TcpRepr& incoming);

}  // namespace utcp::tcp
