/**
 * Frames for trafgen (netsniff-ng's PACKET_MMAP generator), as its packet
 * configuration language writes them: the lab tests and the bench both send
 * with it.
 */

export interface FrameSpec {
  dst: string;
  src: string;
  /** EtherType, e.g. 0x88b5 (IEEE local experimental). */
  type: number;
  /** 802.1Q VLAN ID: the frame is tagged when set. */
  vlan?: number;
  /** Payload byte to fill 46 bytes with. */
  fill?: number;
  /** The payload's bytes instead of the fill (padded to 46 with zeros). */
  payload?: number[];
}

/** "02:00:c0:00:02:03" -> "0x02,0x00,0xc0,0x00,0x02,0x03". */
function macBytes(mac: string): string {
  return mac.split(':').map((o) => `0x${o}`).join(',');
}

/** A 16-bit value as two big-endian bytes. */
function hex16(v: number): string {
  return `0x${((v >> 8) & 0xff).toString(16)},0x${(v & 0xff).toString(16)}`;
}

/** A trafgen configuration with one packet per frame, in order; each frame is 60 bytes (+ 4 when tagged). */
export function trafgenConfig(frames: FrameSpec[]): string {
  const lines = frames.map((f) => {
    const tag = f.vlan === undefined ? '' : `0x81,0x00, ${hex16(f.vlan)}, `;
    const body = f.payload
      ? [...f.payload, ...Array<number>(Math.max(0, 46 - f.payload.length)).fill(0)].map((b) => `0x${b.toString(16)}`).join(',')
      : `fill(0x${(f.fill ?? 0x41).toString(16)}, 46)`;
    return `{ ${macBytes(f.dst)}, ${macBytes(f.src)}, ${tag}${hex16(f.type)}, ${body} }`;
  });
  return `${lines.join('\n')}\n`;
}
