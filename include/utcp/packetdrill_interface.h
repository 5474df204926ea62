// SPDX-License-Identifier: BSD-2-Clause
/* The table of functions packetdrill loads from a shared object (its --so_filename option):
 * packetdrill calls packetdrill_interface_init(flags, &ifc) with its --so_flags string, then
 * drives the stack under test only through these pointers. Field order is the ABI. Every
 * function takes the userdata first and otherwise has the POSIX signature. */
#ifndef UTCP_PACKETDRILL_INTERFACE_H
#define UTCP_PACKETDRILL_INTERFACE_H

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

struct packetdrill_interface {
  void* userdata;
  void (*free)(void* userdata);
  int (*socket)(void* userdata, int domain, int type, int protocol);
  int (*bind)(void* userdata, int sockfd, const struct sockaddr* addr, socklen_t addrlen);
  int (*listen)(void* userdata, int sockfd, int backlog);
  int (*accept)(void* userdata, int sockfd, struct sockaddr* addr, socklen_t* addrlen);
  int (*connect)(void* userdata, int sockfd, const struct sockaddr* addr, socklen_t addrlen);
  ssize_t (*read)(void* userdata, int fd, void* buf, size_t count);
  ssize_t (*readv)(void* userdata, int fd, const struct iovec* iov, int iovcnt);
  ssize_t (*recv)(void* userdata, int sockfd, void* buf, size_t len, int flags);
  ssize_t (*recvfrom)(void* userdata, int sockfd, void* buf, size_t len, int flags,
                      struct sockaddr* src_addr, socklen_t* addrlen);
  ssize_t (*recvmsg)(void* userdata, int sockfd, struct msghdr* msg, int flags);
  ssize_t (*write)(void* userdata, int fd, const void* buf, size_t count);
  ssize_t (*writev)(void* userdata, int fd, const struct iovec* iov, int iovcnt);
  ssize_t (*send)(void* userdata, int sockfd, const void* buf, size_t len, int flags);
  ssize_t (*sendto)(void* userdata, int sockfd, const void* buf, size_t len, int flags,
                    const struct sockaddr* dest_addr, socklen_t addrlen);
  ssize_t (*sendmsg)(void* userdata, int sockfd, const struct msghdr* msg, int flags);
  int (*fcntl)(void* userdata, int fd, int cmd, ...);
  int (*ioctl)(void* userdata, int fd, unsigned long request, ...);
  int (*close)(void* userdata, int fd);
  int (*shutdown)(void* userdata, int sockfd, int how);
  int (*getsockopt)(void* userdata, int sockfd, int level, int optname, void* optval,
                    socklen_t* optlen);
  int (*setsockopt)(void* userdata, int sockfd, int level, int optname, const void* optval,
                    socklen_t optlen);
  int (*poll)(void* userdata, struct pollfd* fds, nfds_t nfds, int timeout);
  /* One whole inbound IPv4 packet for the stack. 0 on success, -1 on error. */
  int (*netdev_send)(void* userdata, const void* buf, size_t count);
  /* The next outbound IPv4 packet. On entry *count is the buffer size; on return the packet
   * length, or 0 when nothing came before the port's receive deadline. *time_usecs is the
   * packet's send time on the gettimeofday() clock. 0 on success, -1 on error. */
  int (*netdev_receive)(void* userdata, void* buf, size_t* count, long long* time_usecs);
  int (*usleep)(void* userdata, useconds_t usec);
  int (*gettimeofday)(void* userdata, struct timeval* tv, struct timezone* tz);
  int (*epoll_create)(void* userdata, int size);
  int (*epoll_ctl)(void* userdata, int epfd, int op, int fd, struct epoll_event* event);
  int (*epoll_wait)(void* userdata, int epfd, struct epoll_event* events, int maxevents,
                    int timeout);
  int (*pipe)(void* userdata, int pipefd[2]);
  int (*splice)(void* userdata, int fd_in, loff_t* off_in, int fd_out, loff_t* off_out, size_t len,
                unsigned int flags);
};

typedef void (*packetdrill_interface_init_t)(const char* flags, struct packetdrill_interface* ifc);

/* Fills *ifc. flags (may be NULL) are space-separated key=value words, see lib/packetdrill. */
void packetdrill_interface_init(const char* flags, struct packetdrill_interface* ifc);

/* utcp extensions for its own runner (utcp-drill), not used by packetdrill:
 * netdev_receive never advances the virtual clock past time_usecs (a negative value restores
 * the default wait); the number of socket calls blocked inside the port right now; when the
 * calling thread's last socket call returned (gettimeofday clock); and a way to wake every
 * blocked call for good (they fail with EINTR) before free(). */
void utcp_packetdrill_set_receive_horizon(void* userdata, long long time_usecs);
int utcp_packetdrill_blocked_calls(void* userdata);
long long utcp_packetdrill_last_return_usecs(void* userdata);
void utcp_packetdrill_stop_waiting(void* userdata);
typedef void (*utcp_packetdrill_set_receive_horizon_t)(void* userdata, long long time_usecs);
typedef int (*utcp_packetdrill_blocked_calls_t)(void* userdata);
typedef long long (*utcp_packetdrill_last_return_usecs_t)(void* userdata);
typedef void (*utcp_packetdrill_stop_waiting_t)(void* userdata);

#ifdef __cplusplus
}
#endif

#endif /* UTCP_PACKETDRILL_INTERFACE_H */
