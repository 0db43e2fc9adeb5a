/*
 * live_stress.c - vNICs added and removed while the relay threads run under
 * traffic, built with ThreadSanitizer (or ASan) by test/native/live.native.test.ts,
 * which runs it as root in a network namespace of its own with a veth pair
 * eth0 <-> peer0 (both up):
 *
 *   live_stress CYCLES
 *
 * A relay on eth0 (two queues, fanout hash, the kernel filter, membership
 * unicast) serves vNIC "sa"; a sender thread floods peer0 with frames to sa,
 * to the visiting vNIC's MAC and to broadcast (every vNIC), while the main
 * thread adds a visitor ("sb"/"sc", the same MAC or one the kernel picks),
 * brings it up (its IPv6 stack sends through the relay too), lets it take
 * frames for a moment and removes it, CYCLES times. Every add must get slot 1,
 * every remove succeed, and the counters add up. Prints "N passed, N failed".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../native/relay.h"
#include "check.h"

static const uint8_t MAC_A[6] = { 0x02, 0x00, 0xc0, 0x00, 0x02, 0x71 };
static const uint8_t MAC_B[6] = { 0x02, 0x00, 0xc0, 0x00, 0x02, 0x72 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static int stop_sending;      /* atomic */
static unsigned long sent[3]; /* frames to A, to B, broadcast (the sender's) */

static void *sender(void *arg)
{
	const uint8_t *dst[3] = { MAC_A, MAC_B, BCAST };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)if_nametoindex("peer0") };
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	uint8_t f[60] = { 0 };
	unsigned long n = 0;

	(void)arg;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("sender");
		return NULL;
	}
	f[6] = 0x02, f[11] = 0x09, f[12] = 0x88, f[13] = 0xb5;
	while (!__atomic_load_n(&stop_sending, __ATOMIC_RELAXED)) {
		const int k = n % 8 == 7 ? 2 : (int)(n % 2); /* A, B, ..., a broadcast in eight */

		memcpy(f, dst[k], 6);
		if (send(fd, f, sizeof(f), 0) == (ssize_t)sizeof(f))
			sent[k]++;
		if (++n % 64 == 0)
			usleep(200); /* about 100k frames a second at most: the relay threads keep up, the CPU stays shared */
	}
	close(fd);
	return NULL;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	const int cycles = argc > 1 ? atoi(argv[1]) : 50;
	struct relay_vnic_config a = { .tap = "sa", .mac = MAC_A, .netns_fd = -1, .link_local_pass = 0x4008, .antispoof = 1 };
	struct relay_config cfg = { .parent = "eth0", .vnics = &a, .nvnics = 1, .membership = PSOCK_MR_UNICAST, .vnet_hdr = 1,
				    .rcvbuf = 4 << 20, .rx_ring = RELAY_RING_AUTO, .kernel_filter = 1, .tx_batch = 32, .coalesce_us = 200,
				    .queues = 2, .fanout = RELAY_FANOUT_HASH, .follow_cpu = 1 };
	struct relay_vnic_counters last, visited = { 0 };
	struct relay_dir_counters unrouted;
	struct relay_vnic_counters each[RELAY_MAX_VNICS], total;
	struct vd_error e = { 0 };
	struct relay *r = relay_new();
	pthread_t tid;
	unsigned long long lost = 0;
	int i, slots_ok = 0, removes_ok = 0;

	if (!r || relay_open(r, &cfg, &e) < 0 || relay_start(r, &e) < 0 || relay_up(r, 0, &e) < 0) {
		fprintf(stderr, "%s: %s: %s\n", e.ifname, vd_op(&e), strerror(e.err));
		return 2;
	}
	pthread_create(&tid, NULL, sender, NULL);
	pause_ms(50);
	for (i = 0; i < cycles; i++) {
		struct relay_vnic_config b = a;
		int slot;

		b.tap = i % 2 ? "sc" : "sb";
		b.mac = i % 3 == 2 ? NULL : MAC_B; /* now and then the kernel's own */
		slot = relay_add_vnic(r, &b, &e);
		if (slot < 0) {
			fprintf(stderr, "add %d: %s: %s: %s\n", i, e.ifname, vd_op(&e), strerror(e.err));
			break;
		}
		slots_ok += slot == 1;
		(void)relay_up(r, slot, &e);
		pause_ms(i % 4 + 1);
		if (relay_remove_vnic(r, slot, &last, &e) == 0) {
			removes_ok++;
			visited.rx.frames += last.rx.frames;
			visited.tx.frames += last.tx.frames;
		}
	}
	__atomic_store_n(&stop_sending, 1, __ATOMIC_RELAXED);
	pthread_join(tid, NULL);
	pause_ms(50);
	relay_collect_overruns(r);
	relay_snapshot(r, each, &unrouted, &total);
	CHECK(slots_ok == cycles);
	CHECK(removes_ok == cycles);
	CHECK(relay_nvnics(r) == 1 && relay_vnic_slots(r) == 1);
	/* Every frame for A reached it or was counted: dropped on its way (its receive drops) or by the socket (overrun). */
	CHECK(each[0].rx.frames > 0);
	for (i = 0; i < FRAME_VERDICT_COUNT; i++)
		lost += each[0].rx.drops[i];
	CHECK(each[0].rx.frames + lost + unrouted.drops[FRAME_DROP_OVERRUN] >= sent[0] + sent[2]);
	CHECK(visited.rx.frames > 0); /* the visitors got frames while they were there */
	CHECK(total.rx.frames == each[0].rx.frames + visited.rx.frames); /* the totals keep what they got */
	CHECK(relay_thread_error(r, NULL) == 0);
	printf("cycles %d; sent to A %lu, to the visitor's MAC %lu, broadcast %lu; A received %llu (dropped %llu, overruns %llu), "
	       "the visitors %llu and sent %llu\n",
	       cycles, sent[0], sent[1], sent[2], (unsigned long long)each[0].rx.frames, lost,
	       (unsigned long long)unrouted.drops[FRAME_DROP_OVERRUN], (unsigned long long)visited.rx.frames,
	       (unsigned long long)visited.tx.frames);
	relay_free(r);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
