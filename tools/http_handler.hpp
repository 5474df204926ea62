// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The HTTP/1.1 side of utcp-serve for one connection, independent of sockets: request
// bytes go in (feed), response bytes come out (produce). Serves regular files below a root
// directory with GET and HEAD, keeps the connection alive (RFC 9112 §9.3), answers 404 for
// anything missing or outside the root (".." segments and symlinks leading out included),
// 400/405/431/501/505 for requests it will not serve.
#include <cstdint>
#include <span>
#include <string>

namespace utcp::tools {

class HttpSession {
 public:
  // `root` must be an absolute, symlink-free path (realpath of the --root directory).
  explicit HttpSession(const std::string& root);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Whether feed() takes more now: a client pipelining faster than we answer is paused.
  bool wants_input() const;
  void feed(std::span<const uint8_t> bytes);
  void peer_finished() { peer_fin_ = true; }
  // Writes response bytes into `out`; returns how many (0: nothing to send now).
  size_t produce(std::span<uint8_t> out);
  // Everything owed has been produced and the connection should now be closed.
  bool done() const;
  // Waiting for the client to finish a request (its head, or a body to skip) with nothing
  // to answer meanwhile: from the connection's start until the first head is complete, and
  // from the first byte of each later request. The header timeout runs while this is true.
  bool awaiting_request() const;
  // The header timeout expired: answer 408 and close (RFC 9110 §15.5.9).
  void time_out();
  uint64_t requests() const { return requests_; }

 private:
  bool start_next_response();
  void respond(int status, const std::string& reason, bool keep_alive, bool head);
  void respond_file(const std::string& target, bool keep_alive, bool head);
  void finish_response();

  std::string root_;
  std::string in_;
  bool peer_fin_ = false;
  bool close_after_ = false;  // the last response said "Connection: close"
  bool closing_ = false;      // that response has been produced completely
  uint64_t requests_ = 0;
  size_t skip_body_ = 0;  // request body bytes still to discard

  // The response being produced: header text, then the body from a string or a file.
  bool active_ = false;
  std::string head_;
  size_t head_off_ = 0;
  std::string body_;
  size_t body_off_ = 0;
  int file_fd_ = -1;
  uint64_t file_off_ = 0;
  uint64_t file_left_ = 0;
};

}  // namespace utcp::tools
