/**
 * When to announce the vNIC's addresses (gratuitous ARP, unsolicited
 * neighbour advertisement): when it gains an address while up, and for all
 * of them when it comes up. Moving an address between hosts leaves ARP and
 * neighbour caches pointing at the old MAC for minutes; an announcement
 * makes them take the vNIC's MAC at once. Pure: the daemon feeds it the
 * vNIC's rtnetlink events and sends what it returns.
 */
import type { LinkEvent } from '../native/native';
import { linkIsUp } from './parentwatch';

/** IFA_F_* flags (linux/if_addr.h) that mean an IPv6 address may not be announced yet: DAD running or failed, optimistic (RFC 4429 forbids Override). */
const IFA_F_OPTIMISTIC = 0x04;
const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;
const NOT_YET = IFA_F_OPTIMISTIC | IFA_F_DADFAILED | IFA_F_TENTATIVE;

export class VnicAddresses {
  /** The vNIC's link is up (IFF_UP and running). */
  private up = false;
  /** Address -> whether it may be announced (IPv6: DAD done). */
  private readonly ready = new Map<string, boolean>();

  /** ifindex: the vNIC's, in the namespace whose events are fed in. */
  constructor(private readonly ifindex: number) {}

  /**
   * The addresses to announce because of ev (none for another interface, a
   * removal, a change that makes nothing newly announceable).
   */
  handle(ev: LinkEvent): string[] {
    if (ev.ifindex !== this.ifindex) return [];
    switch (ev.type) {
      case 'new': {
        const was = this.up;
        this.up = linkIsUp(ev);
        return !was && this.up ? [...this.ready].filter(([, ok]) => ok).map(([a]) => a) : [];
      }
      case 'addr': {
        if (!ev.address) return [];
        const ok = ev.family === 4 || ((ev.addrFlags ?? 0) & NOT_YET) === 0;
        const was = this.ready.get(ev.address) ?? false;
        this.ready.set(ev.address, ok);
        return this.up && ok && !was ? [ev.address] : [];
      }
      case 'deladdr':
        if (ev.address) this.ready.delete(ev.address);
        return [];
      case 'del':
        this.up = false;
        return [];
      default:
        return [];
    }
  }
}

/** How an address is announced: count frames (0: never), intervalMs apart (RFC 5227: 2, 2 s apart). */
export interface AnnouncePolicy {
  count: number;
  intervalMs: number;
}

/** How many addresses one vNIC may announce: a token bucket. */
export interface AnnounceRate {
  /** Addresses a second, sustained. */
  perSecond: number;
  /** Addresses at once (the bucket's size). */
  burst: number;
}

/**
 * 16 addresses a second, 32 at once: far above what a host gains in normal
 * use, far below a flood (issue #25: a container adding 2,000 addresses
 * made 4,005 frames and 2,001 log lines).
 */
export const ANNOUNCE_RATE: Readonly<AnnounceRate> = Object.freeze({ perSecond: 16, burst: 32 });

export interface AnnounceLimit {
  /** Default ANNOUNCE_RATE. */
  rate?: AnnounceRate;
  /** Clock, ms (default performance.now(), monotonic). */
  now?: () => number;
  /** The first address of a burst of skipped ones, and how many were skipped in all, this one included; called once per burst. */
  onSkip?: (address: string, skipped: number) => void;
}

/**
 * Sends each announcement policy.count times, intervalMs apart, with timers
 * that never keep the process alive; an address removed meanwhile is not
 * announced again. send() throws on failure (the parent down); each failure
 * is reported once per address and event through onError. Addresses over
 * the rate are not announced: counted, and each burst of them reported once
 * through onSkip.
 */
export class Announcer {
  /** Frames sent, by family. */
  readonly sent = { ipv4: 0, ipv6: 0 };
  /** Addresses not announced because they came over the rate. */
  skipped = 0;
  private readonly timers = new Map<string, NodeJS.Timeout[]>();
  private readonly rate: AnnounceRate;
  private readonly now: () => number;
  /** Addresses that may be announced now (up to rate.burst), as of `last`. */
  private tokens: number;
  private last: number;
  /** The last address was skipped: the next skip belongs to the same burst. */
  private skipping = false;

  constructor(
    private readonly policy: AnnouncePolicy,
    private readonly send: (address: string) => void,
    private readonly onError: (address: string, err: Error) => void,
    private readonly limit: AnnounceLimit = {},
  ) {
    this.rate = limit.rate ?? ANNOUNCE_RATE;
    this.now = limit.now ?? (() => performance.now());
    this.tokens = this.rate.burst;
    this.last = this.now();
  }

  /** Take one address's worth from the bucket; false when it is empty. A clock that steps back adds nothing. */
  private take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + (Math.max(0, t - this.last) * this.rate.perSecond) / 1000);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Announce address now and policy.count - 1 more times; false when it is not (over the rate, or count 0). */
  announce(address: string): boolean {
    if (this.policy.count <= 0) return false;
    if (!this.take()) {
      this.skipped++;
      if (!this.skipping) this.limit.onSkip?.(address, this.skipped);
      this.skipping = true;
      return false;
    }
    this.skipping = false;
    this.cancel(address);
    let failed = false;
    const once = (): void => {
      try {
        this.send(address);
        this.sent[address.includes(':') ? 'ipv6' : 'ipv4']++;
      } catch (err) {
        if (!failed) this.onError(address, err as Error);
        failed = true;
      }
    };
    const timers: NodeJS.Timeout[] = [];
    for (let i = 1; i < this.policy.count; i++) timers.push(setTimeout(once, i * this.policy.intervalMs).unref());
    this.timers.set(address, timers);
    once();
    return true;
  }

  /** Stop announcing address (it was removed). */
  cancel(address: string): void {
    for (const t of this.timers.get(address) ?? []) clearTimeout(t);
    this.timers.delete(address);
  }

  /** Stop everything (the daemon is ending). */
  close(): void {
    for (const a of [...this.timers.keys()]) this.cancel(a);
  }
}
