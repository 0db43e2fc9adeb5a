/*
 * tap_test.c - tap_open() against a persistent TAP made by someone else
 * between the name's look-up and TUNSETIFF. The look-up (if_nametoindex) is
 * replaced here by one that finds nothing, as it would have a moment before
 * the other TAP was made; the kernel must then refuse (IFF_TUN_EXCL) rather
 * than attach us to that device.
 *
 *   tap_test TAKEN FREE
 *
 * TAKEN: a persistent TAP that exists; FREE: a name no interface has. Run
 * as root in a network namespace of its own (test/tap.native.test.ts).
 * Prints "N passed, N failed".
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../native/tap.h"
#include "check.h"

/* The look-up as it was a moment before the race: no interface has the name. */
unsigned int if_nametoindex(const char *name)
{
	(void)name;
	return 0;
}

int main(int argc, char **argv)
{
	struct vd_error e = { 0 };
	int vnet = 1, fd;

	if (argc != 3)
		return 2;
	fd = tap_open(argv[1], &vnet, 0, &e);
	CHECK(fd < 0);
	CHECK(e.err == EEXIST);
	CHECK(e.syscall && strcmp(e.syscall, "ioctl(TUNSETIFF)") == 0);
	if (fd >= 0)
		close(fd);
	/* the control: a free name is created */
	vnet = 1;
	memset(&e, 0, sizeof(e));
	fd = tap_open(argv[2], &vnet, 0, &e);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
