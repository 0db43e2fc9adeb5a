/**
 * The CNI error object (SPEC.md, section 5 "Error"): what the plugin prints
 * on stdout, with a non-zero exit, for every failure. Codes 0-99 are the
 * spec's well-known ones; 100 and up are vethd-cni's own.
 */

/** The spec's well-known codes this plugin uses (containernetworking/cni pkg/types ErrXxx). */
export const CNI_ERR = Object.freeze({
  /** The configuration's cniVersion is not one this plugin supports, or the command needs a later one. */
  incompatibleVersion: 1,
  /** A configuration key with a value vethd cannot honour (the message names the key and value). */
  unsupportedField: 2,
  /** CNI_COMMAND, CNI_CONTAINERID, CNI_IFNAME, CNI_NETNS... missing or invalid (the message names them). */
  invalidEnv: 4,
  /** stdin cannot be read. */
  io: 5,
  /** stdin is not JSON, or a delegated plugin's output is not. */
  decode: 6,
  /** The network configuration is JSON but not a valid vethd network. */
  invalidConfig: 7,
  /** CNI_NETNS is the plugin's own network namespace (as skel refuses it). */
  invalidNetns: 8,
  /** A transient condition: the daemon is busy, starting or too slow; the runtime should retry. */
  tryAgainLater: 11,
  /** STATUS: the plugin cannot serve ADD (no vethd answers on the control socket). */
  notAvailable: 50,
  /** The vethd daemon refused or failed the change (details: its error code and message). */
  daemon: 100,
  /** The IPAM plugin is missing, or its result cannot be used. */
  ipam: 101,
  /** The addresses or routes could not be set inside the container's namespace. */
  configure: 102,
  /** CHECK: the attachment is not as the previous result says. */
  check: 103,
  /** Anything else (libcni's ErrInternal). */
  internal: 999,
} as const);

/** A failure as the spec's error object: {code, msg, details}; cniVersion is added when printed. */
export class CniError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    readonly details?: string,
  ) {
    super(msg);
  }

  /** The JSON object the spec prints, in the configuration's version. */
  toJSON(cniVersion: string): { cniVersion: string; code: number; msg: string; details?: string } {
    return { cniVersion, code: this.code, msg: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** err as a CniError: itself, or code 999 with its message. */
export function asCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  return new CniError(CNI_ERR.internal, err instanceof Error ? err.message : String(err));
}
