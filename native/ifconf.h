/*
 * ifconf.h - an interface's IPv4 settings (the net.ipv4.conf.<ifname>.*
 * sysctls, Documentation/networking/ip-sysctl.rst) set over rtnetlink:
 * RTM_SETLINK with IFLA_AF_SPEC / AF_INET / IFLA_INET_CONF, as
 * inet_set_link_af() takes them. Unlike a write to /proc/sys it needs only
 * CAP_NET_ADMIN and works where /proc/sys is read-only or hidden (systemd's
 * ProtectKernelTunables=, ProcSubset=pid). It acts in the network namespace
 * of the calling thread. Thread: set-up (JS).
 */
#ifndef VETHD_IFCONF_H
#define VETHD_IFCONF_H

#include "vderr.h"

/* One setting: an IPV4_DEVCONF_* index (linux/ip.h) and its value. */
struct ifconf_kv {
	int key;          /* IPV4_DEVCONF_ARP_IGNORE, ... (1..IPV4_DEVCONF_MAX) */
	unsigned value;   /* the value the sysctl would take */
};

/*
 * Set n settings of the interface ifindex (named ifname in errors) in one
 * RTM_SETLINK, and wait for the kernel's answer. op is the static text of
 * the error. Returns 0 or -1 with *e filled (EINVAL: a key the kernel does
 * not know; ENODEV: no such interface).
 */
int ifconf_set_ipv4(int ifindex, const char *ifname, const struct ifconf_kv *kv, int n, const char *op,
		    struct vd_error *e);

#endif
