/*
 * tapfloor.c - the floor of any user-space relay: one write() per 64-byte frame
 * into a TAP. Creates TAP <name> (in the caller's network namespace), sets it
 * up, writes <count> frames addressed to the TAP's own MAC (EtherType 0x88b5,
 * which the stack drops after counting) and prints one JSON line:
 *   {"frames":N,"cpu_us_per_frame":X,"wall_us_per_frame":Y}
 * CPU time is this process's user+system time (getrusage). Exit 1 with one
 * line on stderr when a step fails. Usage: tapfloor NAME COUNT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *name, const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", name, what, strerror(errno));
	return 1;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
	struct ifreq ifr;
	unsigned char frame[60];
	long count, i, written = 0;
	double c0, w0;
	int fd, s;

	if (argc != 3 || strlen(argv[1]) >= IFNAMSIZ || (count = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: tapfloor NAME COUNT\n");
		return 2;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(argv[1], "cannot open /dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return fail(argv[1], "cannot create TAP");
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0)
		return fail(argv[1], "cannot read TAP MAC");
	memcpy(frame, ifr.ifr_hwaddr.sa_data, 6);
	memcpy(frame + 6, "\x02\x00\x00\x00\x01\x01", 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	memset(frame + 14, 0x41, sizeof(frame) - 14);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return fail(argv[1], "cannot read TAP flags");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return fail(argv[1], "cannot bring TAP up");
	c0 = cpu_us();
	w0 = now_us();
	for (i = 0; i < count; i++)
		if (write(fd, frame, sizeof(frame)) == (ssize_t)sizeof(frame))
			written++;
	printf("{\"frames\":%ld,\"cpu_us_per_frame\":%.3f,\"wall_us_per_frame\":%.3f}\n", written,
	       (cpu_us() - c0) / count, (now_us() - w0) / count);
	close(fd);
	return written == count ? 0 : 1;
}
