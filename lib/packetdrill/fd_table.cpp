// SPDX-License-Identifier: BSD-2-Clause
#include "fd_table.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace utcp::packetdrill {

FdTable::~FdTable() {
  release_all();
}

FdTable::Reserved FdTable::reserve(int inner) {
  Reserved r;
  // Close-on-exec: packetdrill runs shell commands, which must not inherit our placeholders.
  const int fd = memfd_create("utcp-packetdrill-socket", MFD_CLOEXEC);
  if (fd < 0) return r;
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return r;
  }
  // The kernel only reuses a number that is free, so a slot already under it is stale.
  auto it = slots_.find(fd);
  if (it != slots_.end()) {
    r.stale = it->second.inner;
    slots_.erase(it);
  }
  slots_.emplace(fd, Slot{inner, st.st_dev, st.st_ino});
  r.fd = fd;
  return r;
}

int FdTable::inner_of(int fd) const {
  auto it = slots_.find(fd);
  return it == slots_.end() ? -1 : it->second.inner;
}

bool FdTable::still_ours(int fd, const Slot& s) {
  struct stat st {};
  return fstat(fd, &st) == 0 && st.st_dev == s.dev && st.st_ino == s.ino;
}

void FdTable::release(int fd) {
  auto it = slots_.find(fd);
  if (it == slots_.end()) return;
  if (still_ours(fd, it->second)) ::close(fd);
  slots_.erase(it);
}

void FdTable::release_all() {
  const int saved = errno;
  for (const auto& [fd, slot] : slots_) {
    if (still_ours(fd, slot)) ::close(fd);
  }
  slots_.clear();
  errno = saved;
}

}  // namespace utcp::packetdrill
