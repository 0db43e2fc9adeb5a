/*
 * rawsend.c - lab tool: send raw frames from an interface, as a hostile
 * tenant inside a vNIC could.
 *
 *   rawsend IFNAME COUNT FRAMEHEX [VNETHEX]
 *
 * Sends COUNT copies of the frame FRAMEHEX (hex digits, from the destination
 * MAC on) on IFNAME through an AF_PACKET socket. With VNETHEX (20 hex digits:
 * a struct virtio_net_hdr as the kernel lays it out on this machine, see
 * include/uapi/linux/virtio_net.h), the socket has PACKET_VNET_HDR and each
 * frame goes with that header: the kernel then takes its checksum and
 * segmentation requests (packet(7)). Exits 0 when every frame was sent, else
 * prints one line "rawsend: <what>: <strerror>" and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "rawsend: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Hex digits to bytes; returns the byte count, or -1 on a bad digit or an odd count. */
static long unhex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return (long)(n / 2);
}

int main(int argc, char **argv)
{
	static unsigned char frame[65536], vnet[10];
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	long len, vlen = 0, count, i;
	int fd, one = 1;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: rawsend IFNAME COUNT FRAMEHEX [VNETHEX]\n");
		return 2;
	}
	count = strtol(argv[2], NULL, 10);
	len = unhex(argv[3], frame, sizeof(frame));
	if (argc == 5)
		vlen = unhex(argv[4], vnet, sizeof(vnet));
	if (count < 1 || count > 100000 || len < 14 || (argc == 5 && vlen != (long)sizeof(vnet))) {
		fprintf(stderr, "rawsend: bad COUNT, FRAMEHEX or VNETHEX\n");
		return 2;
	}
	to.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!to.sll_ifindex)
		return fail(argv[1]);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		return fail("socket");
	if (vlen && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		return fail("setsockopt(PACKET_VNET_HDR)");
	for (i = 0; i < count; i++) {
		struct iovec iov[2] = { { vnet, (size_t)vlen }, { frame, (size_t)len } };
		struct msghdr msg = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = vlen ? iov : iov + 1, .msg_iovlen = vlen ? 2 : 1 };

		if (sendmsg(fd, &msg, 0) < 0)
			return fail("sendmsg");
	}
	close(fd);
	return 0;
}
