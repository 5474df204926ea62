// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// One SOCKS5 UDP ASSOCIATE (RFC 1928 §7) over its TCP control connection: connect, the
// handshake (socks5_client.hpp, with RFC 1929 authentication when configured), then the relay
// endpoint (BND.ADDR:BND.PORT) where the datagrams go. The association lives exactly as long as
// its control connection: "A UDP association terminates when the TCP connection that the UDP
// ASSOCIATE request arrived on terminates." The caller owns the loop: it watches fd() for
// events() and passes what fired to on_events().
#include <cstdint>
#include <optional>
#include <string>

#include "proxy_config.hpp"
#include "socks5_client.hpp"
#include "utcp/address.hpp"

namespace utcp::proxy {

class Socks5Association {
 public:
  enum class Status : uint8_t { kConnecting, kHandshaking, kReady, kFailed, kClosed };

  // Takes `fd`: a non-blocking TCP socket whose connect() to `server` is under way (or done).
  // `udp_source` is where the datagrams will come from (the request's DST.ADDR/DST.PORT,
  // RFC 1928 §7; all zeros if not known).
  Socks5Association(int fd, const Endpoint& server, const Endpoint& udp_source,
                    std::optional<Credentials> credentials);
  ~Socks5Association();
  Socks5Association(const Socks5Association&) = delete;
  Socks5Association& operator=(const Socks5Association&) = delete;

  int fd() const { return fd_; }
  Status status() const { return status_; }
  // The epoll bits to wait for now (0 once failed or closed).
  uint32_t events() const;
  // Handles the epoll bits that fired; returns the new status.
  Status on_events(uint32_t events);
  // Where datagrams go once kReady: BND.ADDR:BND.PORT, with the server's own address when the
  // server left BND.ADDR unspecified (it then means "the address you reached me at").
  Endpoint relay() const;
  // One line: why it failed or closed.
  const std::string& error() const { return error_; }
  // RFC 1928 §6 REP when the server answered the request (0xff otherwise).
  uint8_t reply_code() const { return handshake_.got_reply() ? handshake_.reply_code() : 0xff; }

 private:
  void fail(Status status, std::string why);
  void exchange();  // writes what the handshake has to say, feeds it what the server said

  int fd_;
  Endpoint server_;
  Socks5Handshake handshake_;
  Status status_ = Status::kConnecting;
  std::string error_;
};

}  // namespace utcp::proxy
