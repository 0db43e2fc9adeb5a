/*
 * ifconf.h - per-interface sysctls, /proc/sys/net/<proto>/conf/<ifname>/<key>
 * (see Documentation/networking/ip-sysctl.rst). The file is resolved in the
 * network namespace of the calling thread. Thread: set-up (JS).
 */
#ifndef VETHD_IFCONF_H
#define VETHD_IFCONF_H

#include "vderr.h"

/*
 * Write value (e.g. "1") to net.<proto>.conf.<ifname>.<key>; op is the
 * static text of the error ("cannot set arp_ignore"). Returns 0 or -1 with *e
 * filled (ENOENT: no such interface or key).
 */
int ifconf_set(const char *proto, const char *ifname, const char *key, const char *value, const char *op,
	       struct vd_error *e);

#endif
