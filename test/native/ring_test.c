/*
 * ring_test.c - ring_rx_probe_setup() on a packet socket: a mode the kernel
 * refuses (a V2 slot larger than any block: no slot per block, EINVAL) comes
 * back as 1 with the socket as it was (ring.h), so the next mode or recvmsg()
 * starts from a clean socket; a mode it takes is mapped.
 *
 *   ring_test
 *
 * Run as root (CAP_NET_RAW), in a network namespace of its own
 * (test/ring.native.test.ts). Prints "N passed, N failed".
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../native/ring.h"
#include "check.h"

static int getopt_int(int sock, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	return getsockopt(sock, SOL_PACKET, opt, &v, &len) == 0 ? v : -1;
}

int main(void)
{
	struct vd_error e = { 0 };
	struct rx_ring ring;
	int sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	CHECK(sock >= 0);
	if (sock < 0)
		return 1;
	/* refused: a 4 MiB slot fits no block (RING_V2_BLOCK_MAX) */
	CHECK(ring_rx_probe_setup(sock, "test", &ring, RING_V2, 1 << 20, 4 << 20, &e) == 1);
	CHECK(ring.map == NULL);
	CHECK(getopt_int(sock, PACKET_VERSION) == TPACKET_V1);
	CHECK(getopt_int(sock, PACKET_RESERVE) == 0);
	CHECK(e.err == 0);
	/* then a mode it takes, on the same socket */
	CHECK(ring_rx_probe_setup(sock, "test", &ring, RING_V2, 1 << 20, 1500, &e) == 0);
	CHECK(ring.map != NULL && ring.mode == RING_V2);
	CHECK(getopt_int(sock, PACKET_VERSION) == TPACKET_V2);
	CHECK(getopt_int(sock, PACKET_RESERVE) == RING_RESERVE);
	ring_rx_close(&ring);
	close(sock);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
