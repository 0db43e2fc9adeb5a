/*
 * coalesce.h - the relay thread's adaptive interrupt coalescing policy, pure (no
 * system calls), so it is unit-tested apart from the relay (relay/loop.c sleeps).
 *
 * As a NIC's adaptive moderation (ethtool adaptive-rx): after a wake-up that
 * found a burst, the relay thread pauses before looking at the ring again rather
 * than sleeping in poll(), where the kernel would wake it for every frame
 * (sk_data_ready per TPACKET_V2 frame). The first pause of a stream is
 * COALESCE_START_US; each pause that found a burst again doubles the next, up
 * to the configured longest, so a sustained stream costs one wake-up per many
 * frames while a short burst is held up little. A pause that found more than
 * half the ring's slots halves the next, so the ring does not fill.
 */
#ifndef VETHD_COALESCE_H
#define VETHD_COALESCE_H

/* Frames since the last sleep that make a burst worth a pause; fewer: sleep in poll(). */
#define COALESCE_BURST_FRAMES 8
/* The first pause of a stream, µs. */
#define COALESCE_START_US 25

/*
 * The next pause, µs, after `found` frames were handled since the last pause
 * of prev_us µs (0: the stream starts now); max_us is the longest (> 0),
 * ring_slots the receive ring's slot count (0: no slot-counted ring, no limit).
 */
static inline unsigned coalesce_next_pause(unsigned prev_us, unsigned found, unsigned max_us, unsigned ring_slots)
{
	unsigned next;

	if (!prev_us)
		next = COALESCE_START_US;
	else if (ring_slots && found > ring_slots / 2)
		next = prev_us / 2;
	else
		next = prev_us * 2;
	if (next < COALESCE_START_US)
		next = COALESCE_START_US;
	return next > max_us ? max_us : next;
}

#endif
