// SPDX-License-Identifier: BSD-2-Clause
#include "dev/tun_steering.hpp"

#include <linux/bpf.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace utcp::dev {
namespace {

// Builds an eBPF program; jumps name labels that are resolved at the end.
class Assembler {
 public:
  enum Label {
    kZero,
    kTcp,
    kIcmp,
    kIcmpError,
    kV6,
    kTcp6,
    kIcmp6,
    kIcmp6Error,
    kDecide,
    kPassive,
    kLabels
  };

  void emit(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    insns_.push_back(i);
  }
  void mov_reg(uint8_t dst, uint8_t src) { emit(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
  void mov_imm(uint8_t dst, int32_t imm) { emit(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
  void alu_imm(uint8_t op, uint8_t dst, int32_t imm) {
    emit(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
  }
  void add_reg(uint8_t dst, uint8_t src) { emit(BPF_ALU64 | BPF_ADD | BPF_X, dst, src, 0, 0); }
  // Legacy packet loads (offsets from the IPv4 header; 16-bit values come in host order):
  // r0 = packet[imm] or packet[src + imm]. Out of bounds ends the program with 0.
  void load_abs(uint8_t size, int32_t imm) { emit(BPF_LD | BPF_ABS | size, 0, 0, 0, imm); }
  void load_ind(uint8_t size, uint8_t src, int32_t imm) {
    emit(BPF_LD | BPF_IND | size, 0, src, 0, imm);
  }
  void jump_imm(uint8_t op, uint8_t dst, int32_t imm, Label to) {
    fixups_.push_back({insns_.size(), to});
    emit(BPF_JMP | op | BPF_K, dst, 0, 0, imm);
  }
  void jump(Label to) {
    fixups_.push_back({insns_.size(), to});
    emit(BPF_JMP | BPF_JA, 0, 0, 0, 0);
  }
  void exit() { emit(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }
  void bind(Label l) { labels_[l] = static_cast<int>(insns_.size()); }

  std::vector<bpf_insn> finish() {
    for (const auto& [at, to] : fixups_) {
      insns_[at].off = static_cast<int16_t>(labels_[to] - static_cast<int>(at) - 1);
    }
    return insns_;
  }

 private:
  struct Fixup {
    size_t at;
    Label to;
  };
  std::vector<bpf_insn> insns_;
  std::vector<Fixup> fixups_;
  int labels_[kLabels] = {};
};

constexpr int32_t kProtoIcmp = 1, kProtoTcp = 6;  // IPv4 protocol numbers (RFC 790)
constexpr int32_t kNextIcmpv6 = 58;               // IPv6 Next Header for ICMPv6 (RFC 4443)
constexpr int32_t kIpv6Header = 40;               // RFC 8200 §3
constexpr uint32_t kMix = 0x9e3779b1;             // Fibonacci hashing: 2^32 / golden ratio
constexpr uint8_t kR0 = 0, kR1 = 1, kR6 = 6, kStackPort = 7, kPeerPort = 8, kHeader = 9;

// r0 = the IPv4 header length in bytes, after checking the packet is not a later fragment.
void header_length(Assembler& a) {
  a.load_abs(BPF_H, 6);  // flags and fragment offset
  a.alu_imm(BPF_AND, kR0, 0x1fff);
  a.jump_imm(BPF_JNE, kR0, 0, Assembler::kZero);
  a.load_abs(BPF_B, 0);
  a.alu_imm(BPF_AND, kR0, 0x0f);
  a.alu_imm(BPF_LSH, kR0, 2);
}

std::vector<bpf_insn> build(const PortRange& range, uint32_t share, size_t queues) {
  using A = Assembler;
  A a;
  a.mov_reg(kR6, kR1);   // the legacy loads take the socket buffer from r6
  a.load_abs(BPF_B, 0);  // the version nibble
  a.alu_imm(BPF_RSH, kR0, 4);
  a.jump_imm(BPF_JEQ, kR0, 6, A::kV6);
  a.load_abs(BPF_B, 9);  // IPv4 protocol
  a.jump_imm(BPF_JEQ, kR0, kProtoTcp, A::kTcp);
  a.jump_imm(BPF_JEQ, kR0, kProtoIcmp, A::kIcmp);
  a.bind(A::kZero);
  a.mov_imm(kR0, 0);
  a.exit();

  // Kernel -> stack: source port is the peer's, destination port the stack's.
  a.bind(A::kTcp);
  header_length(a);
  a.mov_reg(kHeader, kR0);
  a.load_ind(BPF_H, kHeader, 0);
  a.mov_reg(kPeerPort, kR0);
  a.load_ind(BPF_H, kHeader, 2);
  a.mov_reg(kStackPort, kR0);
  a.jump(A::kDecide);

  // An ICMP error quotes the stack's own packet: there the source port is the stack's.
  a.bind(A::kIcmp);
  header_length(a);
  a.mov_reg(kHeader, kR0);
  a.load_ind(BPF_B, kHeader, 0);  // ICMP type
  for (int type : {3, 4, 11, 12}) a.jump_imm(BPF_JEQ, kR0, type, A::kIcmpError);
  a.jump(A::kZero);
  a.bind(A::kIcmpError);
  a.load_ind(BPF_B, kHeader, 8 + 9);  // quoted IPv4 protocol
  a.jump_imm(BPF_JNE, kR0, kProtoTcp, A::kZero);
  a.load_ind(BPF_B, kHeader, 8);  // quoted header length
  a.alu_imm(BPF_AND, kR0, 0x0f);
  a.alu_imm(BPF_LSH, kR0, 2);
  a.add_reg(kHeader, kR0);
  a.load_ind(BPF_H, kHeader, 8);
  a.mov_reg(kStackPort, kR0);
  a.load_ind(BPF_H, kHeader, 8 + 2);
  a.mov_reg(kPeerPort, kR0);
  a.jump(A::kDecide);

  // IPv6 (RFC 8200): TCP or ICMPv6 right after the fixed header; a packet with extension
  // headers (a fragment among them) goes to queue 0, as an IPv4 later fragment does.
  a.bind(A::kV6);
  a.load_abs(BPF_B, 6);  // Next Header
  a.jump_imm(BPF_JEQ, kR0, kProtoTcp, A::kTcp6);
  a.jump_imm(BPF_JEQ, kR0, kNextIcmpv6, A::kIcmp6);
  a.jump(A::kZero);
  a.bind(A::kTcp6);
  a.load_abs(BPF_H, kIpv6Header);
  a.mov_reg(kPeerPort, kR0);
  a.load_abs(BPF_H, kIpv6Header + 2);
  a.mov_reg(kStackPort, kR0);
  a.jump(A::kDecide);
  // RFC 4443 §3: errors (types 1-4) quote the stack's packet after their 8-byte header.
  a.bind(A::kIcmp6);
  a.load_abs(BPF_B, kIpv6Header);  // ICMPv6 type
  for (int type : {1, 2, 3, 4}) a.jump_imm(BPF_JEQ, kR0, type, A::kIcmp6Error);
  a.jump(A::kZero);
  a.bind(A::kIcmp6Error);
  constexpr int32_t kQuote = kIpv6Header + 8;
  a.load_abs(BPF_B, kQuote + 6);  // the quoted packet's Next Header
  a.jump_imm(BPF_JNE, kR0, kProtoTcp, A::kZero);
  a.load_abs(BPF_H, kQuote + kIpv6Header);
  a.mov_reg(kStackPort, kR0);
  a.load_abs(BPF_H, kQuote + kIpv6Header + 2);
  a.mov_reg(kPeerPort, kR0);

  a.bind(A::kDecide);
  const auto first = static_cast<int32_t>(range.first);
  const auto end = static_cast<int32_t>(range.first + share * queues);
  a.mov_reg(kR0, kStackPort);
  a.jump_imm(BPF_JLT, kR0, first, A::kPassive);
  a.jump_imm(BPF_JGE, kR0, end, A::kPassive);
  a.alu_imm(BPF_SUB, kR0, first);
  a.alu_imm(BPF_DIV, kR0, static_cast<int32_t>(share));
  a.exit();
  a.bind(A::kPassive);
  // Mixed first: Linux's connect() draws even ports only, so the port itself would not do.
  a.mov_reg(kR0, kPeerPort);
  a.emit(BPF_ALU | BPF_MUL | BPF_K, kR0, 0, 0, static_cast<int32_t>(kMix));
  a.emit(BPF_ALU | BPF_RSH | BPF_K, kR0, 0, 0, 16);
  a.alu_imm(BPF_MOD, kR0, static_cast<int32_t>(queues));
  a.exit();
  return a.finish();
}

}  // namespace

PortSteering::PortSteering(PortRange range, size_t queues) : range_(range), queues_(queues) {
  if (range_.last < range_.first) std::swap(range_.first, range_.last);
  const uint32_t size = uint32_t{range_.last} - range_.first + 1;
  if (queues_ == 0 || size / queues_ == 0) {
    throw std::invalid_argument("port steering: " + std::to_string(queues) +
                                " queues cannot share " + std::to_string(size) + " ports");
  }
  share_size_ = static_cast<uint32_t>(size / queues_);
}

PortRange PortSteering::share(size_t k) const {
  const auto first = static_cast<uint16_t>(range_.first + k * share_size_);
  return {first, static_cast<uint16_t>(first + share_size_ - 1)};
}

size_t PortSteering::queue_for(uint16_t stack_port, uint16_t peer_port) const {
  if (stack_port >= range_.first && stack_port < range_.first + share_size_ * queues_) {
    return (stack_port - range_.first) / share_size_;
  }
  return ((uint32_t{peer_port} * kMix) >> 16) % queues_;
}

int PortSteering::load() const {
  const auto insns = build(range_, share_size_, queues_);
  static const char kLicense[] = "GPL";
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = reinterpret_cast<uintptr_t>(insns.data());
  attr.insn_cnt = static_cast<uint32_t>(insns.size());
  attr.license = reinterpret_cast<uintptr_t>(kLicense);
  const long prog = ::syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  return prog < 0 ? -errno : static_cast<int>(prog);
}

int PortSteering::install(int tun_fd) const {
  int fd = load();
  if (fd < 0) return -fd;
  // The device keeps its own reference to the program.
  const int rc = ::ioctl(tun_fd, TUNSETSTEERINGEBPF, &fd);
  const int err = errno;
  ::close(fd);
  return rc < 0 ? err : 0;
}

}  // namespace utcp::dev
