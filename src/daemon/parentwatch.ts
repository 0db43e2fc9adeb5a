/**
 * What the rtnetlink link events mean for one relay: the parent going down and
 * up, renamed, deleted (or moved to another namespace) and back as a new
 * device, and the vNIC leaving this namespace. Pure: the daemon feeds it
 * LinkEvents and acts on the changes it returns (logs, rebind).
 */
import type { LinkEvent } from '../native/native';

export type ParentChange =
  | { kind: 'down' }
  | { kind: 'up' }
  | { kind: 'renamed'; from: string; to: string }
  /** Deleted, or moved to another network namespace: the socket is unbound. */
  | { kind: 'gone' }
  /** A device with the parent's name appeared while it was gone: rebind to it. */
  | { kind: 'back'; ifindex: number; name: string; mtu: number }
  /** The vNIC left this namespace (moved to a container) or is being deleted. */
  | { kind: 'vnic-left'; ifindex: number }
  /** Events were lost: the caller re-reads the state (see resync()). */
  | { kind: 'resync' };

const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const OPER_DOWN = new Set([1, 2, 3, 5]); // notpresent, down, lowerlayerdown, dormant
const OPER_UP = 6;

/** Link up as operators read it: operstate up, or (operstate unknown) IFF_UP and IFF_RUNNING. */
export function linkIsUp(ev: Pick<LinkEvent, 'flags' | 'operstate'>): boolean {
  if (ev.operstate === OPER_UP) return true;
  if (OPER_DOWN.has(ev.operstate)) return false;
  return (ev.flags & IFF_UP) !== 0 && (ev.flags & IFF_RUNNING) !== 0;
}

export class ParentWatch {
  /** True while the bound device exists in this namespace. */
  present = true;

  /**
   * name/ifindex: the parent as bound at start; up: its link state then;
   * tapIfindexes: the vNICs' ifindexes in this namespace.
   */
  constructor(
    public name: string,
    public ifindex: number,
    public up: boolean | undefined,
    tapIfindexes: readonly number[],
  ) {
    this.tapIfindexes = new Set(tapIfindexes);
  }

  /** The vNICs' ifindexes in this namespace: their deletion is theirs, not the parent's. */
  private readonly tapIfindexes: Set<number>;

  /** A vNIC added in this namespace while running. */
  addVnic(ifindex: number): void {
    this.tapIfindexes.add(ifindex);
  }

  /** A vNIC removed while running. */
  removeVnic(ifindex: number): void {
    this.tapIfindexes.delete(ifindex);
  }

  /** The changes one event makes, in order. */
  handle(ev: LinkEvent): ParentChange[] {
    if (ev.type === 'resync') return [{ kind: 'resync' }];
    if (ev.type === 'addr' || ev.type === 'deladdr') return [];
    if (this.tapIfindexes.has(ev.ifindex)) return ev.type === 'del' ? [{ kind: 'vnic-left', ifindex: ev.ifindex }] : [];
    if (this.present && ev.ifindex === this.ifindex) {
      if (ev.type === 'del') {
        this.present = false;
        this.up = false;
        return [{ kind: 'gone' }];
      }
      const out: ParentChange[] = [];
      if (ev.name && ev.name !== this.name) {
        out.push({ kind: 'renamed', from: this.name, to: ev.name });
        this.name = ev.name;
      }
      return out.concat(this.linkChange(ev));
    }
    if (!this.present && ev.type === 'new' && ev.name === this.name) {
      this.present = true;
      this.ifindex = ev.ifindex;
      this.up = undefined;
      return [{ kind: 'back', ifindex: ev.ifindex, name: ev.name, mtu: ev.mtu }, ...this.linkChange(ev)];
    }
    return [];
  }

  /**
   * After lost events: ifindex is the parent name's ifindex now (undefined: no
   * such device), up its link state. Returns the changes that were missed.
   */
  resync(ifindex: number | undefined, up: boolean | undefined): ParentChange[] {
    if (ifindex === undefined) return this.present ? this.handle({ type: 'del', ifindex: this.ifindex, flags: 0, operstate: -1, mtu: -1, name: '' }) : [];
    if (this.present && ifindex === this.ifindex) {
      return up === undefined ? [] : this.linkChange({ flags: up ? IFF_UP | IFF_RUNNING : 0, operstate: up ? OPER_UP : 2 });
    }
    const out = this.present ? this.handle({ type: 'del', ifindex: this.ifindex, flags: 0, operstate: -1, mtu: -1, name: '' }) : [];
    return out.concat(this.handle({ type: 'new', ifindex, flags: 0, operstate: up ? OPER_UP : 2, mtu: -1, name: this.name }));
  }

  private linkChange(ev: Pick<LinkEvent, 'flags' | 'operstate'>): ParentChange[] {
    const up = linkIsUp(ev);
    if (up === this.up) return [];
    this.up = up;
    return [{ kind: up ? 'up' : 'down' }];
  }
}
