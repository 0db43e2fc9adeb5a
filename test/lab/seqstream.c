/*
 * seqstream.c - lab tool: a numbered frame stream, sent and checked.
 *
 *   seqstream send IFNAME DSTMAC SRCMAC ETHERTYPE COUNT PPS
 *   seqstream recv IFNAME ETHERTYPE [STRAYTYPE]
 *
 * send: COUNT frames (60 bytes) of EtherType ETHERTYPE (hex) from IFNAME
 * through an AF_PACKET socket, at PPS frames a second (paced to absolute
 * times), the payload's first 4 bytes the frame's number (0, 1, ...,
 * big-endian); a frame the kernel has no room for (ENOBUFS) is sent again.
 * Stops early on SIGTERM or SIGINT. Prints "sent N", N the frames sent.
 *
 * recv: prints "ready" once listening on IFNAME, then counts the frames it
 * receives (not its own: PACKET_OUTGOING is left out) until SIGTERM or
 * SIGINT, and prints one JSON line: frames of ETHERTYPE, next (one past the
 * highest number seen), missing (numbers skipped over), late (frames whose
 * number came after a higher one: reordered or twice), strays (frames of
 * STRAYTYPE), kernel_drops (frames its socket had no room for).
 *
 * Exits 0, or prints one line "seqstream: <what>: <strerror>" and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int fail(const char *what)
{
	fprintf(stderr, "seqstream: %s: %s\n", what, strerror(errno));
	return 1;
}

static int parse_mac(const char *s, unsigned char m[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6 ? 0 : -1;
}

/* A packet socket for protocol proto bound to ifname, or -1. */
static int open_socket(const char *ifname, int proto, struct sockaddr_ll *sll)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(proto));

	if (fd < 0)
		return -1;
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_protocol = htons(proto);
	sll->sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll->sll_ifindex || bind(fd, (struct sockaddr *)sll, sizeof(*sll)) < 0) {
		if (!sll->sll_ifindex)
			errno = ENODEV;
		close(fd);
		return -1;
	}
	return fd;
}

static int do_send(char **argv)
{
	unsigned char f[60] = { 0 };
	struct sockaddr_ll sll;
	unsigned long count = strtoul(argv[5], NULL, 10), pps = strtoul(argv[6], NULL, 10), n = 0;
	unsigned type = (unsigned)strtoul(argv[4], NULL, 16);
	struct timespec at;
	int fd;

	if (parse_mac(argv[2], f) < 0 || parse_mac(argv[3], f + 6) < 0 || !pps) {
		fprintf(stderr, "seqstream: bad MAC or rate\n");
		return 2;
	}
	f[12] = (unsigned char)(type >> 8), f[13] = (unsigned char)type;
	fd = open_socket(argv[1], ETH_P_ALL, &sll);
	if (fd < 0)
		return fail(argv[1]);
	clock_gettime(CLOCK_MONOTONIC, &at);
	while (n < count && !stop) {
		uint32_t seq = htonl((uint32_t)n);

		memcpy(f + 14, &seq, 4);
		if (send(fd, f, sizeof(f), 0) < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
				continue;
			return fail("send");
		}
		n++;
		at.tv_nsec += (long)(1000000000UL / pps);
		while (at.tv_nsec >= 1000000000L)
			at.tv_nsec -= 1000000000L, at.tv_sec++;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR && !stop)
			;
	}
	printf("sent %lu\n", n);
	return 0;
}

static int do_recv(char **argv, int argc)
{
	unsigned type = (unsigned)strtoul(argv[2], NULL, 16), stray = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 16) : 0;
	unsigned long frames = 0, next = 0, missing = 0, late = 0, strays = 0;
	struct tpacket_stats st;
	socklen_t stlen = sizeof(st);
	struct sockaddr_ll sll;
	int rcvbuf = 8 << 20, fd = open_socket(argv[1], ETH_P_ALL, &sll);

	if (fd < 0)
		return fail(argv[1]);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		unsigned char f[2048];
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t len;
		unsigned et;

		if (poll(&p, 1, 100) <= 0)
			continue;
		len = recvfrom(fd, f, sizeof(f), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (len < 18 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		et = (unsigned)f[12] << 8 | f[13];
		if (et == stray && stray)
			strays++;
		if (et != type)
			continue;
		{
			uint32_t seq;

			memcpy(&seq, f + 14, 4);
			seq = ntohl(seq);
			frames++;
			if (seq < next) {
				late++;
			} else {
				missing += seq - next;
				next = (unsigned long)seq + 1;
			}
		}
	}
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen) < 0)
		st.tp_drops = 0;
	printf("{\"frames\":%lu,\"next\":%lu,\"missing\":%lu,\"late\":%lu,\"strays\":%lu,\"kernel_drops\":%u}\n", frames, next, missing,
	       late, strays, st.tp_drops);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a blocked call returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 8 && !strcmp(argv[1], "send"))
		return do_send(argv + 1);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "recv"))
		return do_recv(argv + 1, argc - 1);
	fprintf(stderr, "usage: seqstream send IFNAME DSTMAC SRCMAC ETHERTYPE COUNT PPS | seqstream recv IFNAME ETHERTYPE [STRAYTYPE]\n");
	return 2;
}
