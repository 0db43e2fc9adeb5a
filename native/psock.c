/*
 * psock.c - the packet socket on the parent (see psock.h for the contracts).
 */
#include "psock.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int psock_open(const char *parent, int *vnet_hdr, struct vd_error *e)
{
	int one = 1;
	int sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (sock < 0)
		return vd_fail(e, parent, "cannot open packet socket", "socket(AF_PACKET)", errno);
	if (setsockopt(sock, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0) {
		int err = errno;

		close(sock);
		return vd_fail(e, parent, "cannot enable PACKET_AUXDATA", "setsockopt(PACKET_AUXDATA)", err);
	}
	if (*vnet_hdr && setsockopt(sock, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		*vnet_hdr = 0; /* unsupported: relay plain frames */
	return sock;
}

int psock_bind(int sock, const char *parent, int ifindex, int rcvbuf, struct vd_error *e)
{
	struct sockaddr_ll sll;

	/* Best effort: FORCE needs CAP_NET_ADMIN and ignores net.core.rmem_max. */
	if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(sock, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return vd_fail(e, parent, "cannot bind packet socket", "bind", errno);
	return 0;
}

/* The membership request for mode (not PSOCK_MR_NONE) on ifindex, with mac for PSOCK_MR_UNICAST. */
static void membership_request(struct packet_mreq *mr, int ifindex, enum psock_membership mode, const uint8_t mac[6])
{
	memset(mr, 0, sizeof(*mr));
	mr->mr_ifindex = ifindex;
	if (mode == PSOCK_MR_UNICAST) {
		mr->mr_type = PACKET_MR_UNICAST;
		mr->mr_alen = 6;
		memcpy(mr->mr_address, mac, 6);
	} else {
		mr->mr_type = PACKET_MR_PROMISC;
	}
}

int psock_add_membership(int sock, const char *parent, int ifindex, enum psock_membership mode,
			 const uint8_t mac[6], struct vd_error *e)
{
	struct packet_mreq mr;

	if (mode == PSOCK_MR_NONE)
		return 0;
	membership_request(&mr, ifindex, mode, mac);
	if (setsockopt(sock, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		return vd_fail(e, parent, mode == PSOCK_MR_UNICAST ? "cannot add unicast filter entry"
								  : "cannot add promiscuous membership",
			       "setsockopt(PACKET_ADD_MEMBERSHIP)", errno);
	return 0;
}

int psock_drop_membership(int sock, const char *parent, int ifindex, enum psock_membership mode,
			  const uint8_t mac[6], struct vd_error *e)
{
	struct packet_mreq mr;

	if (mode == PSOCK_MR_NONE)
		return 0;
	membership_request(&mr, ifindex, mode, mac);
	if (setsockopt(sock, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		return vd_fail(e, parent, mode == PSOCK_MR_UNICAST ? "cannot drop unicast filter entry"
								  : "cannot drop promiscuous membership",
			       "setsockopt(PACKET_DROP_MEMBERSHIP)", errno);
	return 0;
}

int psock_join_fanout(int sock, const char *parent, int type, int *group, struct vd_error *e)
{
	int arg = *group < 0 ? ((type | PACKET_FANOUT_FLAG_UNIQUEID) << 16) : (*group | (type << 16));
	socklen_t len = sizeof(arg);

	if (setsockopt(sock, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0)
		return vd_fail(e, parent, "cannot join packet fanout group", "setsockopt(PACKET_FANOUT)", errno);
	if (*group < 0) {
		if (getsockopt(sock, SOL_PACKET, PACKET_FANOUT, &arg, &len) < 0)
			return vd_fail(e, parent, "cannot read packet fanout group", "getsockopt(PACKET_FANOUT)", errno);
		*group = arg & 0xffff;
	}
	return 0;
}
