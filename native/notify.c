/*
 * notify.c - sd_notify datagrams (see notify.h for the contract).
 */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int notify_send(const char *socket_path, const char *state)
{
	struct sockaddr_un sa;
	size_t plen;
	socklen_t salen;
	ssize_t n;
	int fd, err;

	if (!socket_path || !socket_path[0])
		return 0;
	plen = strlen(socket_path);
	if ((socket_path[0] != '/' && socket_path[0] != '@') || plen >= sizeof(sa.sun_path))
		return -EINVAL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, socket_path, plen);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace: no trailing NUL counted */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (socket_path[0] == '/' ? 1 : 0));

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	do
		n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	while (n < 0 && errno == EINTR);
	err = n < 0 ? -errno : 1;
	close(fd);
	return err;
}
