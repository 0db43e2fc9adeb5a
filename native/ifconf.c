/*
 * ifconf.c - per-interface sysctls (see ifconf.h).
 */
#include "ifconf.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

int ifconf_set(const char *proto, const char *ifname, const char *key, const char *value, const char *op,
	       struct vd_error *e)
{
	char path[PATH_MAX];
	size_t len = strlen(value);
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", proto, ifname, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return vd_fail(e, ifname, op, "open", errno);
	n = write(fd, value, len);
	err = errno;
	close(fd);
	if (n != (ssize_t)len)
		return vd_fail(e, ifname, op, "write", n < 0 ? err : EIO);
	return 0;
}
