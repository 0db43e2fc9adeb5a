/*
 * check.h - the C unit tests' one assertion: CHECK(cond) counts a pass, or a
 * failure with its file, line and text on stderr, and goes on; a test's
 * main() prints "N passed, N failed" from passed and failed.
 */
#ifndef VETHD_TEST_CHECK_H
#define VETHD_TEST_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (cond) {                                                           \
			passed++;                                                     \
		} else {                                                              \
			failed++;                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                     \
	} while (0)

#endif
