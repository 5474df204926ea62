// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The eleven connection states of RFC 9293 §3.3.2.
#include <cstdint>
#include <string_view>

namespace utcp::tcp {

enum class State : uint8_t {
  kClosed,
  kListen,
  kSynSent,
  kSynReceived,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kTimeWait,
};

constexpr std::string_view to_string(State s) {
  switch (s) {
    case State::kClosed:
      return "CLOSED";
    case State::kListen:
      return "LISTEN";
    case State::kSynSent:
      return "SYN-SENT";
    case State::kSynReceived:
      return "SYN-RECEIVED";
    case State::kEstablished:
      return "ESTABLISHED";
    case State::kFinWait1:
      return "FIN-WAIT-1";
    case State::kFinWait2:
      return "FIN-WAIT-2";
    case State::kCloseWait:
      return "CLOSE-WAIT";
    case State::kClosing:
      return "CLOSING";
    case State::kLastAck:
      return "LAST-ACK";
    case State::kTimeWait:
      return "TIME-WAIT";
  }
  return "?";
}

// RFC 9293 §3.3.2: every state from SYN-RECEIVED on has exchanged SYNs.
constexpr bool is_synchronized(State s) {
  return s != State::kClosed && s != State::kListen && s != State::kSynSent;
}

// States in which our side has not yet queued its FIN, so the application may still send.
constexpr bool can_send_data(State s) {
  return s == State::kSynSent || s == State::kSynReceived || s == State::kEstablished ||
         s == State::kCloseWait;
}

// States in which segment text from the peer is accepted (RFC 9293 §3.10.7.4, seventh step).
constexpr bool can_receive_data(State s) {
  return s == State::kEstablished || s == State::kFinWait1 || s == State::kFinWait2;
}

}  // namespace utcp::tcp
