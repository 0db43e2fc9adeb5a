// binding.cc - the one thin binding: argument checks, -errno -> JS Error
// (.code, .errno, .syscall, .ifname), and nothing else. What it exports is
// described exactly by src/native/native.ts.
#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "caps.h"
#include "frame.h"
#include "linkmon.h"
#include "netdev.h"
#include "netns.h"
#include "notify.h"
#include "peercred.h"
#include "relay.h"
}

namespace {

// The errno's name, "ENODEV" ("E<number>" where glibc has none).
std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "E" + std::to_string(err);
}

// "No such device (ENODEV)": how every errno reaches the user.
std::string ErrnoText(int err) {
  return std::string(strerror(err)) + " (" + ErrnoName(err) + ")";
}

// "<ifname>: <operation>: <strerror> (<ERRNO>)" with the fields a caller
// switches on. errno is negative, as in Node's own system errors.
Napi::Error MakeError(Napi::Env env, const vd_error& e) {
  std::string code = ErrnoName(e.err);
  std::string msg = std::string(e.ifname) + ": " + vd_op(&e) + ": " + ErrnoText(e.err);
  Napi::Error err = Napi::Error::New(env, msg);
  err.Set("code", code);
  err.Set("errno", Napi::Number::New(env, -e.err));
  err.Set("syscall", e.syscall);
  err.Set("ifname", e.ifname);
  return err;
}

std::string MacString(const uint8_t* m) {
  char s[18];
  snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return s;
}

Napi::Object Counters(Napi::Env env, const relay_dir_counters& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("frames", static_cast<double>(c.frames));
  o.Set("bytes", static_cast<double>(c.bytes));
  Napi::Object drops = Napi::Object::New(env);
  for (int v = FRAME_PASS + 1; v < FRAME_VERDICT_COUNT; v++)
    drops.Set(frame_verdict_name(static_cast<frame_verdict>(v)), static_cast<double>(c.drops[v]));
  o.Set("drops", drops);
  return o;
}

// The binding checks types only: every key is required, and what a value
// may be (a name's length, a count, a VLAN ID) is for relay_open() to refuse
// (EINVAL naming it). The defaults are the TS layer's (src/native/options.ts).

Napi::Value Required(const Napi::Object& o, const char* key, const std::string& where, bool ok(const Napi::Value&), const char* what) {
  Napi::Value v = o.Get(key);
  if (!ok(v)) throw Napi::TypeError::New(o.Env(), where + key + " must be " + what);
  return v;
}

std::string StringArg(const Napi::Object& o, const char* key, const std::string& where) {
  return Required(o, key, where, [](const Napi::Value& v) { return v.IsString(); }, "a string").As<Napi::String>().Utf8Value();
}

bool BoolArg(const Napi::Object& o, const char* key, const std::string& where) {
  return Required(o, key, where, [](const Napi::Value& v) { return v.IsBoolean(); }, "a boolean").As<Napi::Boolean>().Value();
}

// A number that is a 32-bit integer (the C field's type); its range is relay_open()'s to check.
int IntArg(const Napi::Object& o, const char* key, const std::string& where) {
  auto int32 = [](const Napi::Value& v) {
    if (!v.IsNumber()) return false;
    double d = v.As<Napi::Number>().DoubleValue();
    return d >= -2147483648.0 && d <= 2147483647.0 && d == static_cast<double>(static_cast<int>(d));
  };
  return Required(o, key, where, int32, "a 32-bit integer").As<Napi::Number>().Int32Value();
}

// A number that is an unsigned 32-bit integer (an skb mark).
uint32_t Uint32Arg(const Napi::Object& o, const char* key, const std::string& where) {
  auto uint32 = [](const Napi::Value& v) {
    if (!v.IsNumber()) return false;
    double d = v.As<Napi::Number>().DoubleValue();
    return d >= 0 && d <= 4294967295.0 && d == static_cast<double>(static_cast<uint32_t>(d));
  };
  return Required(o, key, where, uint32, "an unsigned 32-bit integer").As<Napi::Number>().Uint32Value();
}

struct Choice {
  const char* name;  // the option's string value
  int value;         // what the C config takes for it
};

// options[key] as one of the choices; a TypeError naming them otherwise.
template <size_t N>
int ChoiceArg(const Napi::Object& o, const char* key, const Choice (&choices)[N]) {
  Napi::Value v = o.Get(key);
  std::string names;
  for (const Choice& c : choices) {
    if (v.IsString() && v.As<Napi::String>().Utf8Value() == c.name) return c.value;
    names += names.empty() ? c.name : std::string(", ") + c.name;
  }
  throw Napi::TypeError::New(o.Env(), std::string("options.") + key + " must be one of " + names);
}

const Choice kMemberships[] = {{"promisc", PSOCK_MR_PROMISC}, {"unicast", PSOCK_MR_UNICAST}, {"none", PSOCK_MR_NONE}};
const Choice kFanouts[] = {{"cpu", RELAY_FANOUT_CPU}, {"hash", RELAY_FANOUT_HASH}};
const Choice kRxRings[] = {{"auto", RELAY_RING_AUTO}, {"v3", RING_V3}, {"v2", RING_V2}, {"off", RING_OFF}};

// One vNIC's options, kept alive while relay_open() reads them.
struct VnicArgs {
  std::string tap;    // its name
  std::string netns;  // namespace file, "" for this namespace
  uint8_t mac[6];     // its MAC when has_mac
  bool has_mac = false;
};

// {tap, mac: Buffer(6) | null, netns: string | null, arpSysctls, vlan, antiSpoofing, linkLocalPass, raGuard, dhcpGuard}
// into a (strings) and c (the rest); where prefixes the option names in TypeErrors.
void ParseVnic(const Napi::Object& o, const std::string& where, VnicArgs* a, relay_vnic_config* c) {
  Napi::Env env = o.Env();
  a->tap = StringArg(o, "tap", where);
  Napi::Value m = o.Get("mac");
  if (m.IsBuffer() && m.As<Napi::Buffer<uint8_t>>().Length() == 6) {
    memcpy(a->mac, m.As<Napi::Buffer<uint8_t>>().Data(), 6);
    a->has_mac = true;
  } else if (!m.IsNull()) {
    throw Napi::TypeError::New(env, where + "mac must be a 6-byte Buffer or null");
  }
  Napi::Value ns = o.Get("netns");
  if (ns.IsString()) a->netns = ns.As<Napi::String>().Utf8Value();
  else if (!ns.IsNull()) throw Napi::TypeError::New(env, where + "netns must be a string or null");
  c->arp_sysctls = BoolArg(o, "arpSysctls", where);
  c->vlan = IntArg(o, "vlan", where);
  c->antispoof = BoolArg(o, "antiSpoofing", where);
  c->link_local_pass = IntArg(o, "linkLocalPass", where);
  c->ra_guard = BoolArg(o, "raGuard", where);
  c->dhcp_guard = BoolArg(o, "dhcpGuard", where);
}

class Relay : public Napi::ObjectWrap<Relay> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Relay",
                       {InstanceMethod("start", &Relay::Start), InstanceMethod("up", &Relay::Up), InstanceMethod("close", &Relay::Close),
                        InstanceMethod("info", &Relay::Info), InstanceMethod("stats", &Relay::Stats),
                        InstanceMethod("collectOverruns", &Relay::CollectOverruns),
                        InstanceMethod("status", &Relay::Status), InstanceMethod("rebind", &Relay::Rebind),
                        InstanceMethod("setAntiSpoofing", &Relay::SetAntiSpoofing),
                        InstanceMethod("announce", &Relay::Announce), InstanceMethod("addVnic", &Relay::AddVnic),
                        InstanceMethod("removeVnic", &Relay::RemoveVnic),
                        InstanceMethod("refreshHostPath", &Relay::RefreshHostPath)});
  }

  // new Relay({parent, vnics: [{tap, mac, netns, arpSysctls, vlan, antiSpoofing, linkLocalPass, raGuard, dhcpGuard}],
  //            membership, vnetHdr, rcvbuf, rxRing, kernelFilter, txBatch, qdiscBypass, rxCoalesceUs, queues, fanout, followCpu,
  //            hostPath, hostPathMark}):
  // every key required (src/native/native.ts RelayOptions; src/native/options.ts resolveRelayOptions() fills the defaults).
  explicit Relay(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Relay>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
    Napi::Object o = info[0].As<Napi::Object>();
    std::string parent = StringArg(o, "parent", "options.");
    Napi::Value list = o.Get("vnics");
    if (!list.IsArray()) throw Napi::TypeError::New(env, "options.vnics must be an array");
    Napi::Array arr = list.As<Napi::Array>();
    std::vector<VnicArgs> args(arr.Length());
    std::vector<relay_vnic_config> vnics(arr.Length());
    for (uint32_t i = 0; i < arr.Length(); i++) {
      const std::string where = "options.vnics[" + std::to_string(i) + "]";
      if (!arr.Get(i).IsObject()) throw Napi::TypeError::New(env, where + " must be an object");
      ParseVnic(arr.Get(i).As<Napi::Object>(), where + ".", &args[i], &vnics[i]);
    }
    relay_config cfg{};
    cfg.parent = parent.c_str();
    cfg.vnics = vnics.data();
    cfg.nvnics = static_cast<int>(vnics.size());
    cfg.membership = static_cast<enum psock_membership>(ChoiceArg(o, "membership", kMemberships));
    cfg.vnet_hdr = BoolArg(o, "vnetHdr", "options.");
    cfg.rcvbuf = IntArg(o, "rcvbuf", "options.");
    cfg.rx_ring = ChoiceArg(o, "rxRing", kRxRings);
    cfg.kernel_filter = BoolArg(o, "kernelFilter", "options.");
    cfg.tx_batch = IntArg(o, "txBatch", "options.");
    cfg.qdisc_bypass = BoolArg(o, "qdiscBypass", "options.");
    cfg.coalesce_us = IntArg(o, "rxCoalesceUs", "options.");
    cfg.queues = IntArg(o, "queues", "options.");
    cfg.fanout = static_cast<enum relay_fanout>(ChoiceArg(o, "fanout", kFanouts));
    cfg.follow_cpu = BoolArg(o, "followCpu", "options.");
    cfg.host_path = BoolArg(o, "hostPath", "options.");
    cfg.mark = Uint32Arg(o, "hostPathMark", "options.");
    vd_error e{};
    int rc = 0;
    for (size_t i = 0; i < args.size() && rc == 0; i++) {
      vnics[i].tap = args[i].tap.c_str();
      vnics[i].mac = args[i].has_mac ? args[i].mac : nullptr;
      vnics[i].netns_fd = -1;
      if (!args[i].netns.empty()) {
        vnics[i].netns_fd = netns_open(args[i].netns.c_str(), vnics[i].tap, &e);
        if (vnics[i].netns_fd < 0) rc = -1;
      }
    }
    relay_ = relay_new();
    if (!relay_ && rc == 0) rc = vd_fail(&e, cfg.parent, "cannot open relay", "malloc", ENOMEM);
    if (rc == 0) rc = relay_open(relay_, &cfg, &e);
    for (const relay_vnic_config& v : vnics)
      if (v.netns_fd >= 0) close(v.netns_fd);
    if (rc < 0) {
      relay_free(relay_);
      relay_ = nullptr;
      throw MakeError(env, e);
    }
    for (size_t i = 0; i < args.size(); i++) netns_[i] = args[i].netns;
    open_ = true;
  }

  ~Relay() override { relay_free(relay_); }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env());
    vd_error e{};
    if (relay_start(relay_, &e) < 0) throw MakeError(info.Env(), e);
    return info.Env().Undefined();
  }

  // up(slot?): bring that vNIC's link up, or every vNIC's.
  Napi::Value Up(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env());
    for (int s : info[0].IsNumber() ? std::vector<int>{VnicArg(info, 0)} : Slots()) {
      vd_error e{};
      if (relay_up(relay_, s, &e) < 0) throw MakeError(info.Env(), e);
    }
    return info.Env().Undefined();
  }

  // The slots holding a vNIC, in order: the order of info().vnics, stats().vnics and status()'s arrays.
  std::vector<int> Slots() {
    std::vector<int> slots;
    for (int s = 0; s < relay_vnic_slots(relay_); s++)
      if (relay_vnic_present(relay_, s)) slots.push_back(s);
    return slots;
  }

  // info[at] as a vNIC slot (absent: 0); a RangeError when no vNIC is in it.
  int VnicArg(const Napi::CallbackInfo& info, size_t at) {
    if (info[at].IsUndefined()) return 0;
    double d = info[at].ToNumber().DoubleValue();
    int s = d >= 0 && d < RELAY_MAX_VNICS && d == static_cast<int>(d) ? static_cast<int>(d) : -1;
    if (!relay_vnic_present(relay_, s)) throw Napi::RangeError::New(info.Env(), "no vNIC in slot " + Napi::Number::New(info.Env(), d).ToString().Utf8Value());
    return s;
  }

  // addVnic(options): build one more vNIC (VnicOptions, every key required) and wire it into the relay; returns its slot.
  Napi::Value AddVnic(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env);
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
    VnicArgs a;
    relay_vnic_config vc{};
    ParseVnic(info[0].As<Napi::Object>(), "options.", &a, &vc);
    vc.tap = a.tap.c_str();
    vc.mac = a.has_mac ? a.mac : nullptr;
    vc.netns_fd = -1;
    vd_error e{};
    if (!a.netns.empty()) {
      vc.netns_fd = netns_open(a.netns.c_str(), vc.tap, &e);
      if (vc.netns_fd < 0) throw MakeError(env, e);
    }
    int slot = relay_add_vnic(relay_, &vc, &e);
    if (vc.netns_fd >= 0) close(vc.netns_fd);
    if (slot < 0) throw MakeError(env, e);
    netns_[static_cast<size_t>(slot)] = a.netns;
    return Napi::Number::New(env, slot);
  }

  // removeVnic(slot): take that vNIC out and delete its TAP; returns its last {receive, transmit}.
  Napi::Value RemoveVnic(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env);
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "removeVnic(slot): slot must be a number");
    int slot = VnicArg(info, 0);
    relay_vnic_counters last{};
    vd_error e{};
    if (relay_remove_vnic(relay_, slot, &last, &e) < 0) throw MakeError(env, e);
    netns_[static_cast<size_t>(slot)].clear();
    return VnicCounters(env, last);
  }

  // rebind(parent, ifindex): the parent is back as a new device.
  Napi::Value Rebind(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env);
    if (!info[0].IsString() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "rebind(parent, ifindex)");
    std::string parent = info[0].As<Napi::String>().Utf8Value();
    if (parent.empty() || parent.size() >= IF_NAMESIZE) throw Napi::TypeError::New(env, "parent must be 1 to 15 bytes");
    vd_error e{};
    if (relay_rebind(relay_, parent.c_str(), info[1].As<Napi::Number>().Int32Value(), &e) < 0) throw MakeError(env, e);
    return env.Undefined();
  }

  // announce(address, slot?): a gratuitous ARP (IPv4) or unsolicited NA (IPv6) for address on the parent, from the vNIC in slot (default 0).
  Napi::Value Announce(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env);
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "announce(address, slot?)");
    std::string text = info[0].As<Napi::String>().Utf8Value();
    int vnic = VnicArg(info, 1);
    uint8_t addr[16];
    int family = inet_pton(AF_INET, text.c_str(), addr) == 1 ? AF_INET : inet_pton(AF_INET6, text.c_str(), addr) == 1 ? AF_INET6 : 0;
    if (!family) throw Napi::TypeError::New(env, "announce(address): \"" + text + "\" is not an IPv4 or IPv6 address");
    int rc = relay_announce(relay_, vnic, family, addr);
    if (rc < 0) {
      vd_error e{};
      vd_fail(&e, Describe().parent, family == AF_INET ? "cannot send gratuitous ARP" : "cannot send unsolicited neighbour advertisement", "send", -rc);
      throw MakeError(env, e);
    }
    return env.Undefined();
  }

  // refreshHostPath(): the parent's MAC read again and given to the host path; true when it changed.
  Napi::Value RefreshHostPath(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env);
    int rc = relay_host_refresh(relay_);
    if (rc < 0) {
      vd_error e{};
      vd_fail(&e, Describe().parent, "cannot read the parent's MAC for the host path", "ioctl(SIOCGIFHWADDR)", -rc);
      throw MakeError(env, e);
    }
    return Napi::Boolean::New(env, rc == 1);
  }

  // setAntiSpoofing(on, slot?): on the vNIC in slot, or on every vNIC.
  Napi::Value SetAntiSpoofing(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env());
    relay_set_antispoof(relay_, info[1].IsNumber() ? VnicArg(info, 1) : -1, info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (open_) relay_close(relay_);
    open_ = false;
    return info.Env().Undefined();
  }

  relay_info Describe() {
    relay_info ri;
    relay_describe(relay_, &ri);
    return ri;
  }

  // The identity of the vNIC in slot i: {slot, tap, mac, tapIfindex, netns?, vlan?, antiSpoofing, linkLocalPass, raGuard, dhcpGuard}.
  Napi::Object VnicInfo(Napi::Env env, int i) {
    relay_vnic_info v;
    relay_describe_vnic(relay_, i, &v);
    Napi::Object o = Napi::Object::New(env);
    o.Set("slot", Napi::Number::New(env, i));
    o.Set("tap", v.tap);
    o.Set("mac", MacString(v.mac));
    o.Set("tapIfindex", Napi::Number::New(env, v.tap_ifindex));
    if (!netns_[i].empty()) o.Set("netns", netns_[i]);
    if (v.vlan) o.Set("vlan", Napi::Number::New(env, v.vlan));
    const unsigned flags = v.tx_flags;
    o.Set("antiSpoofing", Napi::Boolean::New(env, (flags & FRAME_TX_ANTISPOOF) != 0));
    o.Set("linkLocalPass", Napi::Number::New(env, flags >> 16));
    o.Set("raGuard", Napi::Boolean::New(env, (flags & FRAME_TX_RA_GUARD) != 0));
    o.Set("dhcpGuard", Napi::Boolean::New(env, (flags & FRAME_TX_DHCP_GUARD) != 0));
    return o;
  }

  // Every vNIC's identity in .vnics (slot order), and the relay's modes.
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const relay_info ri = Describe();
    Napi::Object o = Napi::Object::New(env);
    const std::vector<int> slots = Slots();
    Napi::Array vnics = Napi::Array::New(env, slots.size());
    for (size_t i = 0; i < slots.size(); i++) vnics.Set(static_cast<uint32_t>(i), VnicInfo(env, slots[i]));
    o.Set("vnics", vnics);
    o.Set("parent", ri.parent);
    o.Set("parentIfindex", Napi::Number::New(env, ri.parent_ifindex));
    o.Set("mtu", Napi::Number::New(env, ri.mtu));
    o.Set("vnetHdr", Napi::Boolean::New(env, ri.vnet_hdr != 0));
    static const char* const modes[] = {"promisc", "unicast", "none"};
    o.Set("membership", modes[ri.membership]);
    o.Set("rxRing", ring_mode_name(ri.ring_mode));
    o.Set("kernelFilter", Napi::Boolean::New(env, ri.kernel_filter != 0));
    o.Set("txBatch", Napi::Number::New(env, ri.tx_batch));
    o.Set("qdiscBypass", Napi::Boolean::New(env, ri.qdisc_bypass != 0));
    o.Set("rxCoalesceUs", Napi::Number::New(env, ri.coalesce_us));
    o.Set("queues", Napi::Number::New(env, ri.queues));
    if (ri.queues > 1) o.Set("fanout", kFanouts[ri.fanout].name);
    static const char* const follows[] = {"off", "rx-cpu", "fanout"};  // by enum relay_follow
    o.Set("followCpu", follows[ri.follow]);
    if (ri.follow_err)
      o.Set("followCpuError", ErrnoText(ri.follow_err) + (ri.follow_why[0] ? std::string(": verifier: ") + ri.follow_why : ""));
    o.Set("hostPath", ri.host_path ? "on" : "off");
    o.Set("hostPathMark", Napi::Number::New(env, ri.mark));
    if (ri.host_err)
      o.Set("hostPathError", ErrnoText(ri.host_err) + (ri.host_why[0] ? std::string(": verifier: ") + ri.host_why : ""));
    else if (!ri.host_path && ri.host_why[0])
      o.Set("hostPathError", std::string(ri.host_why));
    return o;
  }

  // {receive, transmit} of one vNIC.
  static Napi::Object VnicCounters(Napi::Env env, const relay_vnic_counters& c) {
    Napi::Object v = Napi::Object::New(env);
    v.Set("receive", Counters(env, c.rx));
    v.Set("transmit", Counters(env, c.tx));
    return v;
  }

  // {receive, transmit}: everything (the vNICs' counters, the removed ones' too, and the unrouted drops);
  // vnics[i]: {slot, receive, transmit} of the i-th vNIC in slot order; unrouted: the receive drops that concern no vNIC.
  // Reads only: the sockets' overruns are what the last collectOverruns() folded in.
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    std::vector<relay_vnic_counters> each(static_cast<size_t>(relay_vnic_slots(relay_)));
    relay_dir_counters unrouted;
    relay_vnic_counters total;
    relay_snapshot(relay_, each.data(), &unrouted, &total);
    const std::vector<int> slots = Slots();
    Napi::Array vnics = Napi::Array::New(env, slots.size());
    for (size_t i = 0; i < slots.size(); i++) {
      Napi::Object v = VnicCounters(env, each[static_cast<size_t>(slots[i])]);
      v.Set("slot", Napi::Number::New(env, slots[i]));
      vnics.Set(static_cast<uint32_t>(i), v);
    }
    o.Set("receive", Counters(env, total.rx));
    o.Set("transmit", Counters(env, total.tx));
    o.Set("vnics", vnics);
    o.Set("unrouted", Counters(env, unrouted));
    return o;
  }

  // collectOverruns(): fold the sockets' PACKET_STATISTICS drops (reset by the kernel on each read) into socket_overrun.
  Napi::Value CollectOverruns(const Napi::CallbackInfo& info) {
    if (open_) relay_collect_overruns(relay_);
    return info.Env().Undefined();
  }

  // {open, rxError, retired, macConflicts}: an Error for a relay thread that ended on its own; per vNIC (info().vnics order), an
  // Error when it was retired, else null, and the frames from the wire with its MAC as source (receive drops mac_conflict).
  Napi::Value Status(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("open", Napi::Boolean::New(env, open_));
    const char* rx_call = "recvmsg";
    int rx_err = relay_thread_error(relay_, &rx_call);
    // ppoll or epoll_wait: the wait, not a read (recvmsg, or the socket's pending error), failed
    const bool waiting = !std::strcmp(rx_call, "ppoll") || !std::strcmp(rx_call, "epoll_wait");
    o.Set("rxError", ThreadError(env, rx_err, Describe().parent,
                                 waiting ? "relay stopped waiting for frames" : "relay stopped reading the parent", rx_call));
    const std::vector<int> slots = Slots();
    Napi::Array retired = Napi::Array::New(env, slots.size());
    for (size_t i = 0; i < slots.size(); i++) {
      relay_vnic_info v;
      relay_describe_vnic(relay_, slots[i], &v);
      retired.Set(static_cast<uint32_t>(i), ThreadError(env, relay_vnic_gone(relay_, slots[i]), v.tap, "relay stopped reading the TAP", "read"));
    }
    o.Set("retired", retired);
    std::vector<relay_vnic_counters> each(static_cast<size_t>(relay_vnic_slots(relay_)));
    relay_dir_counters unrouted;
    relay_snapshot(relay_, each.data(), &unrouted, nullptr);
    Napi::Array conflicts = Napi::Array::New(env, slots.size());
    for (size_t i = 0; i < slots.size(); i++)
      conflicts.Set(static_cast<uint32_t>(i), static_cast<double>(each[static_cast<size_t>(slots[i])].rx.drops[FRAME_DROP_MAC_CONFLICT]));
    o.Set("macConflicts", conflicts);
    return o;
  }

  static Napi::Value ThreadError(Napi::Env env, int err, const char* ifname, const char* op, const char* syscall) {
    if (!err) return env.Null();
    vd_error e{};
    vd_fail(&e, ifname, op, syscall, err);
    return MakeError(env, e).Value();
  }

  void RequireOpen(Napi::Env env) {
    if (!open_) throw Napi::Error::New(env, "relay is closed");
  }

  relay* relay_ = nullptr;  // from relay_new(), opened; freed with the object
  bool open_ = false;
  std::vector<std::string> netns_ = std::vector<std::string>(RELAY_MAX_VNICS);  // by slot: the --netns path its vNIC was created in, "" for this namespace
};

// new LinkMonitor(onEvents): rtnetlink link events delivered on the JS thread
// through a libuv poll handle (unref'd: it never keeps the process alive).
// onEvents(events: {type: 'new'|'del'|'resync', ifindex, flags, operstate, mtu, name}[]).
class LinkMonitor : public Napi::ObjectWrap<LinkMonitor> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "LinkMonitor", {InstanceMethod("close", &LinkMonitor::Close)});
  }

  explicit LinkMonitor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LinkMonitor>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "onEvents must be a function");
    bool addresses = false;
    std::string netns;
    if (info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      addresses = o.Get("addresses").ToBoolean().Value();
      if (o.Get("netns").IsString()) netns = o.Get("netns").As<Napi::String>().Utf8Value();
    }
    vd_error e{};
    int fd = OpenSocket(addresses, netns, &e);
    if (fd < 0) throw MakeError(env, e);
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
      close(fd);
      throw Napi::Error::New(env, "no event loop");
    }
    state_ = new State{};
    state_->fd = fd;
    state_->env = env;
    state_->callback = Napi::Persistent(info[0].As<Napi::Function>());
    state_->poll.data = state_;
    state_->retry.data = state_;
    uv_poll_init(loop, &state_->poll, fd);
    uv_timer_init(loop, &state_->retry);
    uv_poll_start(&state_->poll, UV_READABLE, OnReadable);
    uv_unref(reinterpret_cast<uv_handle_t*>(&state_->poll));
    uv_unref(reinterpret_cast<uv_handle_t*>(&state_->retry));
  }

  ~LinkMonitor() override { Shutdown(); }

 private:
  struct OpenStep {
    int addresses;  // linkmon_open()'s argument
    int fd;         // what it returned
  };

  // linkmon_open() as a netns_call() step.
  static int OpenInside(void* arg, vd_error* e) {
    OpenStep* s = static_cast<OpenStep*>(arg);
    s->fd = linkmon_open(s->addresses, e);
    return s->fd < 0 ? -1 : 0;
  }

  // linkmon_open() in this namespace, or inside netns (a namespace file) when given.
  static int OpenSocket(bool addresses, const std::string& netns, vd_error* e) {
    if (netns.empty()) return linkmon_open(addresses, e);
    int ns = netns_open(netns.c_str(), "rtnetlink", e);
    if (ns < 0) return -1;
    OpenStep step{addresses, -1};
    int rc = netns_call(ns, "rtnetlink", OpenInside, &step, e);
    close(ns);
    if (rc < 0 && step.fd >= 0) close(step.fd);  // came back failing: do not keep it
    return rc < 0 ? -1 : step.fd;
  }

  // After a read error, how long the socket is left alone before it is polled again, ms.
  static constexpr uint64_t kRetryMs = 1000;

  struct State {
    uv_poll_t poll;
    uv_timer_t retry;  // re-arms poll kRetryMs after a read error
    int handles = 2;   // poll and retry, until each is closed
    int fd;
    napi_env env;
    Napi::FunctionReference callback;
    uint8_t buf[32768];
    link_event events[64];
  };

  // A read error other than EAGAIN/EINTR/ENOBUFS (or a failed poll: status < 0)
  // is not left armed to fire again at once (a busy loop on an error that stays):
  // polling stops for kRetryMs and the callback gets one resync event carrying
  // the error, so the daemon re-reads the state it relies on, about once a
  // second while the error lasts. ENOBUFS is a plain resync (linkmon_read).
  static void OnReadable(uv_poll_t* handle, int status, int) {
    State* st = static_cast<State*>(handle->data);
    int n = status < 0 ? status : linkmon_read(st->fd, st->buf, sizeof(st->buf), st->events, 64);
    if (n == 0) return;
    int err = 0;
    if (n < 0) {
      err = -n;
      uv_poll_stop(&st->poll);
      uv_timer_start(&st->retry, OnRetry, kRetryMs, 0);
      std::memset(&st->events[0], 0, sizeof(st->events[0]));
      st->events[0].type = LINK_EVENT_RESYNC;
      st->events[0].operstate = st->events[0].mtu = -1;
      n = 1;
    }
    Deliver(st, n, err);
  }

  static void OnRetry(uv_timer_t* timer) {
    State* st = static_cast<State*>(timer->data);
    uv_poll_start(&st->poll, UV_READABLE, OnReadable);
  }

  // st->events[0..n-1] to the callback; err: the read error behind a resync event, else 0.
  static void Deliver(State* st, int n, int err) {
    Napi::Env env(st->env);
    Napi::HandleScope scope(env);
    static const char* const types[] = {"new", "del", "resync", "addr", "deladdr"};
    Napi::Array arr = Napi::Array::New(env, n);
    for (int i = 0; i < n; i++) {
      const link_event& ev = st->events[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("type", types[ev.type]);
      o.Set("ifindex", ev.ifindex);
      o.Set("flags", static_cast<double>(ev.flags));
      o.Set("operstate", ev.operstate);
      o.Set("mtu", ev.mtu);
      o.Set("name", ev.name);
      if (ev.family) {
        char text[INET6_ADDRSTRLEN];
        inet_ntop(ev.family, ev.addr, text, sizeof(text));
        o.Set("family", ev.family == AF_INET ? 4 : 6);
        o.Set("address", text);
        o.Set("addrFlags", static_cast<double>(ev.addr_flags));
      }
      if (err) {
        vd_error e{};
        vd_fail(&e, "rtnetlink", "cannot read link events (retrying in a second)", "recv", err);
        o.Set("error", MakeError(env, e).Value());
      }
      arr.Set(static_cast<uint32_t>(i), o);
    }
    try {
      st->callback.MakeCallback(env.Global(), {arr});
    } catch (const Napi::Error& err) {
      napi_fatal_exception(env, err.Value());  // an exception in the handler is an uncaught exception
    }
  }

  static void OnClosed(uv_handle_t* handle) {
    State* st = static_cast<State*>(handle->data);
    if (--st->handles > 0) return;
    close(st->fd);
    delete st;
  }

  void Shutdown() {
    if (!state_) return;
    state_->callback.Reset();
    uv_poll_stop(&state_->poll);
    uv_timer_stop(&state_->retry);
    uv_close(reinterpret_cast<uv_handle_t*>(&state_->poll), OnClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&state_->retry), OnClosed);
    state_ = nullptr;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  State* state_ = nullptr;
};

// sdNotify(socketPath, state): 1 sent, 0 no socket; throws with .code on failure.
Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[1].IsString()) throw Napi::TypeError::New(env, "state must be a string");
  std::string path = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  std::string state = info[1].As<Napi::String>().Utf8Value();
  int r = notify_send(path.c_str(), state.c_str());
  if (r < 0) {
    vd_error e{};
    vd_fail(&e, "sd_notify", "cannot notify systemd", "sendto", -r);
    throw MakeError(env, e);
  }
  return Napi::Number::New(env, r);
}

// peerCredentials(fd): {pid, uid, gid} of a connected AF_UNIX socket's peer (see peercred.h); throws with .code.
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "fd must be a number");
  int fd = info[0].As<Napi::Number>().Int32Value();
  peercred pc{};
  int rc = peercred_get(fd, &pc);
  if (rc < 0) {
    vd_error e{};
    vd_fail(&e, "control socket", "cannot read the peer's credentials", "getsockopt(SO_PEERCRED)", -rc);
    throw MakeError(env, e);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, pc.pid));
  o.Set("uid", Napi::Number::New(env, pc.uid));
  o.Set("gid", Napi::Number::New(env, pc.gid));
  return o;
}

// dropCapabilities(keep?): {threads, holding, borrowed, held: [{tid, name, masked}], kept, error?} (see caps.h);
// keep: capability numbers the calling (JS) thread keeps.
Napi::Value DropCapabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned long long keep = 0;
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsArray()) throw Napi::TypeError::New(env, "keep must be an array of capability numbers");
    Napi::Array a = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value v = a.Get(i);
      if (!v.IsNumber() || v.As<Napi::Number>().Int32Value() < 0 || v.As<Napi::Number>().Int32Value() > 63)
        throw Napi::TypeError::New(env, "keep must be an array of capability numbers 0..63");
      keep |= 1ULL << v.As<Napi::Number>().Int32Value();
    }
  }
  caps_report rep{};
  caps_drop_process(&rep, keep);
  Napi::Object o = Napi::Object::New(env);
  o.Set("threads", rep.threads);
  o.Set("holding", rep.holding);
  o.Set("borrowed", rep.borrowed);
  Napi::Array held = Napi::Array::New(env, rep.nheld);
  for (int i = 0; i < rep.nheld; i++) {
    Napi::Object h = Napi::Object::New(env);
    h.Set("tid", rep.held[i].tid);
    h.Set("name", rep.held[i].name);
    h.Set("masked", rep.held[i].masked != 0);
    held.Set(static_cast<uint32_t>(i), h);
  }
  o.Set("held", held);
  Napi::Array kept = Napi::Array::New(env);
  for (uint32_t c = 0, k = 0; c < 64; c++)
    if ((rep.kept >> c) & 1) kept.Set(k++, Napi::Number::New(env, c));
  o.Set("kept", kept);
  if (rep.err) {
    vd_error e{};
    vd_fail(&e, "vethd", "cannot drop capabilities", "capset", rep.err);
    o.Set("error", MakeError(env, e).Value());
  }
  return o;
}

// netdevOffloads(name): {gro, lro} (see netdev.h); throws with .code (ENODEV: no such interface).
Napi::Value NetdevOffloads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "name must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name.empty() || name.size() >= IF_NAMESIZE) throw Napi::TypeError::New(env, "name must be 1 to 15 bytes");
  vd_error e{};
  int sock = netdev_ctl_socket(name.c_str(), &e);
  if (sock < 0) throw MakeError(env, e);
  int gro = 0, lro = 0;
  int rc = netdev_get_offloads(sock, name.c_str(), &gro, &lro, &e);
  close(sock);
  if (rc < 0) throw MakeError(env, e);
  Napi::Object o = Napi::Object::New(env);
  o.Set("gro", Napi::Boolean::New(env, gro != 0));
  o.Set("lro", Napi::Boolean::New(env, lro != 0));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("netdevOffloads", Napi::Function::New(env, NetdevOffloads));
  exports.Set("dropCapabilities", Napi::Function::New(env, DropCapabilities));
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify));
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials));
  exports.Set("Relay", Relay::Init(env));
  exports.Set("LinkMonitor", LinkMonitor::Init(env));
  Napi::Array names = Napi::Array::New(env);
  for (int v = FRAME_PASS + 1; v < FRAME_VERDICT_COUNT; v++)
    names.Set(static_cast<uint32_t>(v - 1), frame_verdict_name(static_cast<frame_verdict>(v)));
  exports.Set("dropReasons", names);
  Napi::Object limits = Napi::Object::New(env);
  limits.Set("txBatchMax", Napi::Number::New(env, RELAY_TX_BATCH));
  limits.Set("rxCoalesceMaxUs", Napi::Number::New(env, RELAY_COALESCE_MAX_US));
  limits.Set("queuesMax", Napi::Number::New(env, RELAY_MAX_QUEUES));
  limits.Set("vnicsMax", Napi::Number::New(env, RELAY_MAX_VNICS));
  exports.Set("limits", limits);
  return exports;
}

}  // namespace

NODE_API_MODULE(vethd, Init)
