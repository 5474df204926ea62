// SPDX-License-Identifier: BSD-2-Clause
// HttpSession without sockets: request bytes in, response bytes out, against files in a
// scratch directory.
#include "http_handler.hpp"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace utcp::tools {
namespace {

class HttpSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/utcp-http-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    char real[PATH_MAX];
    ASSERT_NE(::realpath(tmpl, real), nullptr);
    dir_ = real;
    root_ = dir_ + "/www";
    ::mkdir(root_.c_str(), 0755);
    ::mkdir((root_ + "/sub").c_str(), 0755);
    write(root_ + "/index.html", "<h1>home</h1>\n");
    write(root_ + "/sub/index.html", "sub home\n");
    write(root_ + "/a.txt", "hello, utcp\n");
    write(dir_ + "/secret.txt", "outside the root\n");
    ASSERT_EQ(::symlink((dir_ + "/secret.txt").c_str(), (root_ + "/link.txt").c_str()), 0);
  }
  void TearDown() override {
    const std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  static void write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }
  // Feeds `request` and collects everything produced, `chunk` bytes at a time.
  static std::string exchange(HttpSession& h, const std::string& request, size_t chunk = 4096) {
    h.feed(std::span(reinterpret_cast<const uint8_t*>(request.data()), request.size()));
    std::string out;
    std::string buf(chunk, '\0');
    for (size_t n; (n = h.produce(std::span(reinterpret_cast<uint8_t*>(buf.data()), chunk))) > 0;)
      out.append(buf.data(), n);
    return out;
  }
  static std::string status_line(const std::string& response) {
    return response.substr(0, response.find("\r\n"));
  }
  static std::string body(const std::string& response) {
    return response.substr(response.find("\r\n\r\n") + 4);
  }

  std::string dir_;
  std::string root_;
};

TEST_F(HttpSessionTest, ServesAFileWithLengthAndKeepsAlive) {
  HttpSession h(root_);
  const std::string r = exchange(h, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
  EXPECT_NE(r.find("Content-Length: 12\r\n"), std::string::npos);
  EXPECT_NE(r.find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_EQ(body(r), "hello, utcp\n");
  EXPECT_FALSE(h.done());  // HTTP/1.1 persists (RFC 9112 §9.3)
  h.peer_finished();
  EXPECT_TRUE(h.done());
}

TEST_F(HttpSessionTest, PipelinedRequestsAnsweredInOrderByteAtATime) {
  HttpSession h(root_);
  const std::string r =
      exchange(h, "GET /a.txt HTTP/1.1\r\n\r\nGET /sub/ HTTP/1.1\r\nConnection: close\r\n\r\n", 1);
  const size_t second = r.find("HTTP/1.1 200 OK", 10);
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(body(r.substr(0, second)), "hello, utcp\n");
  EXPECT_EQ(body(r.substr(second)), "sub home\n");
  EXPECT_NE(r.find("Connection: close\r\n", second), std::string::npos);
  EXPECT_TRUE(h.done());
  EXPECT_EQ(h.requests(), 2u);
}

TEST_F(HttpSessionTest, Http10ClosesUnlessKeepAlive) {
  HttpSession a(root_);
  EXPECT_EQ(status_line(exchange(a, "GET / HTTP/1.0\r\n\r\n")), "HTTP/1.1 200 OK");
  EXPECT_TRUE(a.done());
  HttpSession b(root_);
  exchange(b, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  EXPECT_FALSE(b.done());
}

TEST_F(HttpSessionTest, HeadHasLengthButNoBody) {
  HttpSession h(root_);
  const std::string r = exchange(h, "HEAD /a.txt HTTP/1.1\r\n\r\n");
  EXPECT_NE(r.find("Content-Length: 12\r\n"), std::string::npos);
  EXPECT_EQ(body(r), "");
}

TEST_F(HttpSessionTest, NothingOutsideTheRoot) {
  for (const char* target :
       {"/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt",
        "/sub/%2E%2E/%2e%2e/secret.txt", "/link.txt", "/missing", "/a.txt/", "/%00"}) {
    HttpSession h(root_);
    const std::string r = exchange(h, std::string("GET ") + target + " HTTP/1.1\r\n\r\n");
    const std::string status = status_line(r);
    EXPECT_TRUE(status == "HTTP/1.1 404 Not Found" || status == "HTTP/1.1 400 Bad Request")
        << target << ": " << status;
    EXPECT_EQ(r.find("outside the root"), std::string::npos) << target;
  }
}

TEST_F(HttpSessionTest, RejectsWhatItWillNotServe) {
  struct Case {
    std::string request;
    std::string status;
    bool closes;
  };
  const Case cases[] = {
      {"POST /a.txt HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 405 Method Not Allowed",
       false},
      {"garbage\r\n\r\n", "HTTP/1.1 400 Bad Request", true},
      {"GET /a.txt HTTP/2.0\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported", true},
      {"GET /a.txt HTTP/1.1\r\nno colon here\r\n\r\n", "HTTP/1.1 400 Bad Request", true},
      {"GET /a.txt HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 501 Not Implemented",
       true},
      {"GET /a.txt HTTP/1.1\r\nX: " + std::string(20000, 'a'),
       "HTTP/1.1 431 Request Header Fields Too Large", true},
  };
  for (const Case& c : cases) {
    HttpSession h(root_);
    EXPECT_EQ(status_line(exchange(h, c.request)), c.status) << c.request.substr(0, 40);
    EXPECT_EQ(h.done(), c.closes) << c.request.substr(0, 40);
  }
}

TEST_F(HttpSessionTest, RequestBodyIsSkippedBeforeTheNextRequest) {
  HttpSession h(root_);
  const std::string r =
      exchange(h, "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nGET /GET /a.txt HTTP/1.1\r\n\r\n");
  EXPECT_EQ(status_line(r), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(r.find("hello, utcp\n"), std::string::npos);
  EXPECT_EQ(h.requests(), 2u);
}

}  // namespace
}  // namespace utcp::tools
