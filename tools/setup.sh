#!/bin/sh
# The README's two commands, from a clone on Debian 12, as root:
#   tools/setup.sh demo   install what the demo needs, then run it (npm run demo)
#   tools/setup.sh test   install what the tests need, then run them (npm test); .ci/run runs this
# Each installs only what is missing: Debian packages without their Recommends and with no service
# started, then npm ci when node_modules is older than package-lock.json, then the addon again when
# native/ changed since it was built. With nothing missing it goes straight to npm.
# POSIX sh rather than a Makefile: a fresh Debian has no make (node-gyp needs it: this installs it).
set -eu
cd "$(dirname "$0")/.."
me=tools/setup.sh

# Debian packages, by what needs them.
TOOLCHAIN='make g++ python3'                                    # node-gyp builds the addon (native/check-toolchain.sh)
LAB='iproute2 procps dnsmasq-base isc-dhcp-client iputils-ping' # the lab: namespaces, sysctl, DHCP server and client, ping
# The tests' lab also sniffs, generates and scans traffic, scrapes metrics, runs systemd units and
# renders the man pages (curl: the systemd lab scrapes metrics inside it); clang and its runtime build the libFuzzer target (test/native/fuzz.native.test.ts);
# containernetworking-plugins are the reference CNI plugins (host-local, dhcp, macvlan) the CNI lab runs vethd-cni with (test/lab/cni.lab.test.ts).
# bpftool shows the host path's program loaded while vethd runs and unloaded after it (test/lab/hostpath.lab.test.ts).
# dnsmasq-base is the binary only: the dnsmasq package would start a system DNS service.
TESTS='tcpdump netsniff-ng socat prometheus arp-scan ethtool systemd curl util-linux man-db bsdextrautils clang libclang-rt-14-dev containernetworking-plugins bpftool'

die() {
  echo "$me: $*" >&2
  exit 1
}

case "${1-}" in
demo) packages="$TOOLCHAIN $LAB" ;;
test) packages="$TOOLCHAIN $LAB $TESTS" ;;
*)
  echo "usage: $me demo|test   (as root: installs what is missing, then runs npm run demo or npm test)" >&2
  exit 2
  ;;
esac

[ "$(id -u)" = 0 ] || die "run me as root: the lab creates network namespaces, and missing Debian packages are installed with apt-get"

# Node.js >= 20 and its npm: Debian 12 ships 18 (without npm), so this only says where to get it.
NODE_HOWTO='install Node.js 20 from NodeSource (curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs; see https://github.com/nodesource/distributions), then run me again'
command -v node >/dev/null 2>&1 || die "Node.js 20 or later is needed and there is no node: $NODE_HOWTO"
node_version=$(node -p 'process.versions.node')
[ "${node_version%%.*}" -ge 20 ] || die "Node.js 20 or later is needed, this is $node_version: $NODE_HOWTO"
command -v npm >/dev/null 2>&1 || die "node $node_version has no npm: $NODE_HOWTO"

# The Debian packages not installed yet (dpkg-query knows; no apt-get update when none is missing).
missing=
if command -v dpkg-query >/dev/null 2>&1; then
  for p in $packages; do
    case $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) in
    'install ok installed') ;;
    *) missing="$missing $p" ;;
    esac
  done
else
  echo "$me: no dpkg-query, not Debian: install these yourself (or what your system calls them): $packages" >&2
fi

if [ -n "$missing" ]; then
  echo "$me: installing Debian packages (without Recommends, no service started):$missing"
  export DEBIAN_FRONTEND=noninteractive
  # A package such as prometheus starts its service on install: forbid that while apt-get runs
  # (policy-rc.d exit 101 = action forbidden), unless the machine already has a policy.
  # VETHD_SETUP_POLICY_RC_D: another path, for test/tools/setup.test.ts only.
  policy=${VETHD_SETUP_POLICY_RC_D:-/usr/sbin/policy-rc.d}
  made_policy=
  if [ ! -e "$policy" ]; then
    trap 'rm -f "$policy"' EXIT
    trap 'exit 130' INT TERM HUP
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    made_policy=1
  fi
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  if [ -n "$made_policy" ]; then
    rm -f "$policy"
    trap - EXIT INT TERM HUP
  fi
fi

# npm ci when node_modules is missing or older than the lock (npm writes node_modules/.package-lock.json
# last), or the addon is missing; it builds the addon and the TypeScript.
addon=build/Release/vethd.node
if [ ! -f node_modules/.package-lock.json ] || [ ! -f "$addon" ] ||
  [ -n "$(find package-lock.json -newer node_modules/.package-lock.json)" ]; then
  echo "$me: npm ci"
  npm ci
elif [ -n "$(find native binding.gyp -newer "$addon" -type f)" ]; then
  # A pull changed the C sources since the addon was built: npm test would load the old one.
  echo "$me: native/ changed since $addon was built: npm run install (node-gyp rebuild)"
  npm run install
fi

case $1 in
demo) exec npm run demo ;;
test) exec npm test ;;
esac
