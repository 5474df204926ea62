// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// Real descriptors for the facade's sockets. packetdrill treats what socket() and accept()
// return as descriptors of its own process: at the end of a script it calls the real
// close(2) on every one the script left open, and dies if that fails. So each facade
// descriptor is paired with a real open file (an empty memfd, which costs no memory), and the
// caller only ever sees the real number.
//
// The caller may close a real descriptor behind our back (packetdrill does, before it frees
// the port), and the kernel may then hand the number to someone else. So we close a real
// descriptor only while it still refers to the file we opened (same device and inode; every
// memfd has an inode of its own).
#include <sys/types.h>

#include <map>

namespace utcp::packetdrill {

class FdTable {
 public:
  FdTable() = default;
  ~FdTable();
  FdTable(const FdTable&) = delete;
  FdTable& operator=(const FdTable&) = delete;

  struct Reserved {
    int fd = -1;     // the real descriptor, -1 with errno set on failure
    int stale = -1;  // a facade descriptor whose real one was closed behind our back and
                     // whose number the kernel just reused: the caller closes it
  };
  // Opens a real descriptor for facade descriptor `inner`.
  Reserved reserve(int inner);
  // The facade descriptor behind real descriptor `fd`, or -1.
  int inner_of(int fd) const;
  // Forgets `fd` and closes it if it is still ours.
  void release(int fd);
  // Forgets every descriptor, closing those that are still ours.
  void release_all();
  size_t size() const { return slots_.size(); }

 private:
  struct Slot {
    int inner;
    dev_t dev;
    ino_t ino;
  };
  static bool still_ours(int fd, const Slot& s);
  std::map<int, Slot> slots_;
};

}  // namespace utcp::packetdrill
