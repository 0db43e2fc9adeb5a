/*
 * ifconf.c - an interface's IPv4 settings over rtnetlink (see ifconf.h).
 */
#include "ifconf.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

/* Most settings one call takes. */
#define IFCONF_MAX 8

struct setlink_req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[NLA_HDRLEN * 3 + IFCONF_MAX * NLA_ALIGN(NLA_HDRLEN + 4)];
};

/* Open an attribute of type at *off in buf; returns it, for close_attr(). */
static struct nlattr *open_attr(char *buf, size_t *off, unsigned short type)
{
	struct nlattr *a = (struct nlattr *)(buf + *off);

	a->nla_type = type;
	*off += NLA_HDRLEN;
	return a;
}

static void close_attr(const char *buf, size_t off, struct nlattr *a)
{
	a->nla_len = (unsigned short)(buf + off - (char *)a);
}

/* Send req on fd and read the kernel's ack: 0, or the positive errno it answered with. */
static int transact(int fd, struct setlink_req *req)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char ans[512];
	ssize_t n;

	if (sendto(fd, req, req->nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return errno;
	do
		n = recv(fd, ans, sizeof(ans), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	if ((size_t)n < NLMSG_HDRLEN + sizeof(struct nlmsgerr) || ((struct nlmsghdr *)ans)->nlmsg_type != NLMSG_ERROR)
		return EPROTO;
	return -((struct nlmsgerr *)NLMSG_DATA(ans))->error;
}

int ifconf_set_ipv4(int ifindex, const char *ifname, const struct ifconf_kv *kv, int n, const char *op,
		    struct vd_error *e)
{
	struct setlink_req req;
	struct nlattr *spec, *inet, *conf;
	size_t off = 0;
	int fd, err, i;

	if (n < 1 || n > IFCONF_MAX)
		return vd_fail(e, ifname, op, "RTM_SETLINK", EINVAL);
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_type = RTM_SETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	spec = open_attr(req.attrs, &off, IFLA_AF_SPEC | NLA_F_NESTED);
	inet = open_attr(req.attrs, &off, AF_INET | NLA_F_NESTED);
	conf = open_attr(req.attrs, &off, IFLA_INET_CONF | NLA_F_NESTED);
	for (i = 0; i < n; i++) {
		struct nlattr *a = open_attr(req.attrs, &off, (unsigned short)kv[i].key);

		memcpy(req.attrs + off, &kv[i].value, 4);
		off += 4;
		close_attr(req.attrs, off, a);
	}
	close_attr(req.attrs, off, conf);
	close_attr(req.attrs, off, inet);
	close_attr(req.attrs, off, spec);
	req.nh.nlmsg_len = (unsigned)(NLMSG_LENGTH(sizeof(req.ifi)) + off);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return vd_fail(e, ifname, op, "socket(NETLINK_ROUTE)", errno);
	err = transact(fd, &req);
	close(fd);
	return err ? vd_fail(e, ifname, op, "RTM_SETLINK", err) : 0;
}
