// SPDX-License-Identifier: BSD-2-Clause
#include "http_handler.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

namespace utcp::tools {

namespace {

constexpr size_t kMaxHeaderBytes = 16 * 1024;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 §2.1 percent-decoding; nullopt for a malformed escape or an encoded NUL.
std::optional<std::string> percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string content_type(const std::string& path) {
  const size_t dot = path.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : lower(path.substr(dot + 1));
  if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "css") return "text/css";
  if (ext == "js") return "text/javascript";
  if (ext == "json") return "application/json";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gif") return "image/gif";
  if (ext == "svg") return "image/svg+xml";
  return "application/octet-stream";
}

}  // namespace

HttpSession::HttpSession(const std::string& root) : root_(root) {}

HttpSession::~HttpSession() {
  if (file_fd_ >= 0) ::close(file_fd_);
}

bool HttpSession::wants_input() const {
  return !closing_ && in_.size() < 4 * kMaxHeaderBytes;
}

void HttpSession::feed(std::span<const uint8_t> bytes) {
  in_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

bool HttpSession::done() const {
  if (active_) return false;
  if (closing_) return true;
  // The client finished sending and everything it asked for has been answered.
  return peer_fin_ && in_.find("\r\n\r\n") == std::string::npos;
}

bool HttpSession::awaiting_request() const {
  if (active_ || closing_ || peer_fin_) return false;
  if (skip_body_ > 0) return true;
  if (in_.find("\r\n\r\n") != std::string::npos) return false;  // one is ready to answer
  // A kept-alive connection between requests is idle, not slow: the idle timeout's business.
  return requests_ == 0 || !in_.empty();
}

void HttpSession::time_out() {
  if (active_ || closing_) return;
  // RFC 9110 §15.5.9: 408 when the server would rather not wait, with "close".
  in_.clear();
  skip_body_ = 0;
  respond(408, "Request Timeout", false, false);
}

size_t HttpSession::produce(std::span<uint8_t> out) {
  size_t n = 0;
  while (n < out.size()) {
    if (!active_ && !start_next_response()) break;
    if (head_off_ < head_.size()) {
      const size_t k = std::min(out.size() - n, head_.size() - head_off_);
      std::memcpy(out.data() + n, head_.data() + head_off_, k);
      head_off_ += k;
      n += k;
    } else if (body_off_ < body_.size()) {
      const size_t k = std::min(out.size() - n, body_.size() - body_off_);
      std::memcpy(out.data() + n, body_.data() + body_off_, k);
      body_off_ += k;
      n += k;
    } else if (file_left_ > 0) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(out.size() - n, file_left_));
      const ssize_t k = ::pread(file_fd_, out.data() + n, want, static_cast<off_t>(file_off_));
      if (k <= 0) {
        // The file shrank or failed under us: the length promised cannot be kept.
        close_after_ = true;
        file_left_ = 0;
        finish_response();
        break;
      }
      file_off_ += static_cast<uint64_t>(k);
      file_left_ -= static_cast<uint64_t>(k);
      n += static_cast<size_t>(k);
    } else {
      finish_response();
    }
  }
  if (active_ && head_off_ == head_.size() && body_off_ == body_.size() && file_left_ == 0) {
    finish_response();
  }
  return n;
}

void HttpSession::finish_response() {
  active_ = false;
  if (file_fd_ >= 0) ::close(file_fd_);
  file_fd_ = -1;
  if (close_after_) closing_ = true;
}

bool HttpSession::start_next_response() {
  if (closing_) return false;
  if (skip_body_ > 0) {
    const size_t k = std::min(skip_body_, in_.size());
    in_.erase(0, k);
    skip_body_ -= k;
    if (skip_body_ > 0) return false;
  }
  const size_t end = in_.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (in_.size() > kMaxHeaderBytes) {  // RFC 6585 §5
      respond(431, "Request Header Fields Too Large", false, false);
      return true;
    }
    return false;
  }
  const std::string request = in_.substr(0, end);
  in_.erase(0, end + 4);
  ++requests_;

  std::vector<std::string> lines;
  for (size_t pos = 0; pos <= request.size();) {
    const size_t eol = request.find("\r\n", pos);
    lines.push_back(request.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos));
    if (eol == std::string::npos) break;
    pos = eol + 2;
  }
  // RFC 9112 §3: method SP request-target SP HTTP-version.
  const std::string& line = lines[0];
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || line.find(' ', sp2 + 1) != std::string::npos) {
    respond(400, "Bad Request", false, false);
    return true;
  }
  const std::string method = line.substr(0, sp1);
  const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    if (version.rfind("HTTP/", 0) == 0) {
      respond(505, "HTTP Version Not Supported", false, false);
    } else {
      respond(400, "Bad Request", false, false);
    }
    return true;
  }
  std::string connection;
  std::optional<size_t> content_length;
  bool chunked = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == std::string::npos || colon == 0) {
      respond(400, "Bad Request", false, false);
      return true;
    }
    const std::string name = lower(lines[i].substr(0, colon));
    const std::string value = trim(lines[i].substr(colon + 1));
    if (name == "connection") connection = lower(value);
    if (name == "transfer-encoding") chunked = true;
    if (name == "content-length") {
      if (value.empty() || value.size() > 12 ||
          value.find_first_not_of("0123456789") != std::string::npos) {
        respond(400, "Bad Request", false, false);
        return true;
      }
      content_length = std::stoull(value);
    }
  }
  if (chunked) {  // request bodies are not served here; framing unknown, so close
    respond(501, "Not Implemented", false, false);
    return true;
  }
  skip_body_ = content_length.value_or(0);
  // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
  const bool keep_alive = version == "HTTP/1.1"
                              ? connection.find("close") == std::string::npos
                              : connection.find("keep-alive") != std::string::npos;
  const bool head = method == "HEAD";
  if (method != "GET" && !head) {
    respond(405, "Method Not Allowed", keep_alive, false);
    return true;
  }
  respond_file(target, keep_alive, head);
  return true;
}

void HttpSession::respond_file(const std::string& target, bool keep_alive, bool head) {
  std::string path = target.substr(0, target.find_first_of("?#"));
  if (path.empty() || path[0] != '/') {
    respond(400, "Bad Request", keep_alive, head);
    return;
  }
  const auto decoded = percent_decode(path);
  if (!decoded) {
    respond(400, "Bad Request", keep_alive, head);
    return;
  }
  // Rebuild the path from its segments: "." vanishes, ".." is refused outright.
  std::string rel;
  for (size_t pos = 1; pos <= decoded->size();) {
    size_t slash = decoded->find('/', pos);
    if (slash == std::string::npos) slash = decoded->size();
    const std::string seg = decoded->substr(pos, slash - pos);
    pos = slash + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      respond(404, "Not Found", keep_alive, head);
      return;
    }
    rel += "/" + seg;
  }
  std::string full = root_ + rel;
  struct stat sb {};
  const bool is_dir = ::stat(full.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
  if (decoded->back() == '/' && !is_dir) {  // "/file/" names a directory that is not there
    respond(404, "Not Found", keep_alive, head);
    return;
  }
  if (is_dir) full += "/index.html";
  // Symlinks may still lead out of the root: compare the resolved path.
  char resolved[PATH_MAX];
  if (::realpath(full.c_str(), resolved) == nullptr ||
      (std::string(resolved) != root_ && std::string(resolved).rfind(root_ + "/", 0) != 0)) {
    respond(404, "Not Found", keep_alive, head);
    return;
  }
  const int fd = ::open(resolved, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    if (fd >= 0) ::close(fd);
    respond(404, "Not Found", keep_alive, head);
    return;
  }
  close_after_ = !keep_alive;
  active_ = true;
  head_ = "HTTP/1.1 200 OK\r\nServer: utcp-serve\r\nContent-Type: " + content_type(resolved) +
          "\r\nContent-Length: " + std::to_string(sb.st_size) +
          "\r\nConnection: " + (keep_alive ? "keep-alive" : "close") + "\r\n\r\n";
  head_off_ = 0;
  body_.clear();
  body_off_ = 0;
  if (head) {
    ::close(fd);
    file_left_ = 0;
  } else {
    file_fd_ = fd;
    file_off_ = 0;
    file_left_ = static_cast<uint64_t>(sb.st_size);
  }
}

void HttpSession::respond(int status, const std::string& reason, bool keep_alive, bool head) {
  close_after_ = !keep_alive;
  active_ = true;
  body_ = std::to_string(status) + " " + reason + "\n";
  head_ = "HTTP/1.1 " + std::to_string(status) + " " + reason +
          "\r\nServer: utcp-serve\r\nContent-Type: text/plain\r\nContent-Length: " +
          std::to_string(body_.size()) +
          "\r\nConnection: " + (keep_alive ? "keep-alive" : "close") +
          (status == 405 ? "\r\nAllow: GET, HEAD" : "") + "\r\n\r\n";
  head_off_ = 0;
  body_off_ = 0;
  if (head) body_.clear();
  file_left_ = 0;
}

}  // namespace utcp::tools
