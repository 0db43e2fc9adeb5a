/**
 * The reserved 802.1 group addresses 01:80:c2:00:00:00 to :0f a vNIC may
 * send to (--link-local): a bridge never forwards them (802.1Q-2018 8.6.3),
 * they speak to the switch port itself, so a vNIC that sends STP BPDUs,
 * PAUSE or LACP talks to the LAN's switch as if it were one of its links.
 * As a host's port on a bridge would be, vethd lets only what a host's own
 * NIC legitimately sends pass by default: EAPOL (802.1X supplicant) and LLDP.
 * The mask goes to the relay as RelayOptions' linkLocalPass (native/frame.h).
 */
import { InvalidArgumentError } from 'commander';

/** Group names, by the last octet of their address (01:80:c2:00:00:0X). */
export const LINK_LOCAL_GROUPS: Readonly<Record<string, number>> = {
  /** Bridge group: STP/RSTP/MSTP BPDUs. */
  stp: 0x00,
  /** MAC control: 802.3x PAUSE and PFC (also EtherType 0x8808 to any address). */
  pause: 0x01,
  /** Slow protocols: LACP, marker, OAM (also EtherType 0x8809 to any address). */
  slow: 0x02,
  /** Port access entity: 802.1X EAPOL. */
  eapol: 0x03,
  /** Nearest bridge: LLDP, PTP peer delay. */
  lldp: 0x0e,
};

/** What passes when --link-local is not given: EAPOL and LLDP. */
export const LINK_LOCAL_DEFAULT = 'eapol,lldp';

/**
 * Parse a --link-local list: group names (stp, pause, slow, eapol, lldp),
 * group numbers 0x00 to 0x0f, or addresses 01:80:c2:00:00:00 to :0f,
 * comma-separated; "none" or "all" alone. Returns the 16-bit pass mask (bit
 * X: 01:80:c2:00:00:0X). Throws InvalidArgumentError naming the bad item.
 */
export function parseLinkLocal(text: string): number {
  const list = text.trim().toLowerCase();
  if (list === 'none') return 0;
  if (list === 'all') return 0xffff;
  let mask = 0;
  for (const raw of list.split(',')) {
    const item = raw.trim();
    const addr = /^01[:-]80[:-]c2[:-]00[:-]00[:-]0([0-9a-f])$/.exec(item);
    const num = /^0x0?([0-9a-f])$/.exec(item);
    const group = Object.hasOwn(LINK_LOCAL_GROUPS, item) ? LINK_LOCAL_GROUPS[item] : addr ? Number.parseInt(addr[1], 16) : num ? Number.parseInt(num[1], 16) : undefined;
    if (group === undefined) {
      throw new InvalidArgumentError(`"${raw.slice(0, 40)}" is not a link-local group: use ${Object.keys(LINK_LOCAL_GROUPS).join(', ')}, 0x00 to 0x0f, 01:80:c2:00:00:00 to :0f, none or all`);
    }
    mask |= 1 << group;
  }
  return mask;
}
