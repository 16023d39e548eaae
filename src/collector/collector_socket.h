/*
 * collector_socket.h - the collector's datagram socket (collector.c's setup step):
 * binding the Unix socket with its owner, group, mode and receive buffer.
 * Internal to src/collector/.
 */
#ifndef TLSRPTD_COLLECTOR_COLLECTOR_SOCKET_H
#define TLSRPTD_COLLECTOR_COLLECTOR_SOCKET_H

#include "collector/collector.h"
#include "util/err.h"

/*
 * Binds o->socket_path as an AF_UNIX datagram socket (a stale socket file is removed; a
 * live one or another file there is an error), with a receive timeout of
 * recv_timeout_ms, o->socket_mode, o->socket_owner / o->socket_group and the largest
 * receive buffer allowed.  *fd is set as soon as the socket exists and *path (xstrdup'ed,
 * the caller frees it and unlinks the file) once it is bound, also when a later step
 * fails: the caller cleans up both.  Returns 0 or ERR_INVALID / ERR_IO with a message
 * naming the collector.socket* key.
 */
int collector_socket_bind(const struct collector_opts *o, int recv_timeout_ms, int *fd, char **path,
                          struct err *e);

#endif
