/*
 * notify.h - the sd_notify datagram protocol (sd_notify(3)) without
 * libsystemd: one AF_UNIX datagram with "READY=1", "STOPPING=1",
 * "WATCHDOG=1"... to the socket named by $NOTIFY_SOCKET (a path, or
 * "@name" for the abstract namespace).
 */
#ifndef VETHD_NOTIFY_H
#define VETHD_NOTIFY_H

/*
 * Send state to socket_path. Returns 1 when sent, 0 when socket_path is NULL
 * or empty (not run by systemd), -errno on failure. Thread: set-up (JS).
 */
int notify_send(const char *socket_path, const char *state);

#endif
