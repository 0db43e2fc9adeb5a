#!/bin/sh
# The DaemonSet's init container: put vethd-cni where the node's container runtime runs CNI
# plugins, as the plugin type "vethd". CNI plugins run on the node itself, so the Node.js runtime
# and vethd's files go with it, under /opt/vethd on the node; the plugin is a small shim.
#   install-cni.sh <node's /opt dir, mounted> <node's CNI bin dir, mounted>
# (VETHD_SRC and NODE_BIN: where vethd and node are in the image; defaults /opt/vethd, /usr/local/bin/node.)
set -eu
opt=$1 cnibin=$2
mkdir -p "$opt/vethd.new"
cp -a "${VETHD_SRC:-/opt/vethd}/." "$opt/vethd.new/"
cp "${NODE_BIN:-/usr/local/bin/node}" "$opt/vethd.new/node"
# Replaced whole (rename), so a plugin running meanwhile never sees half a tree.
rm -rf "$opt/vethd.old"
[ ! -e "$opt/vethd" ] || mv "$opt/vethd" "$opt/vethd.old"
mv "$opt/vethd.new" "$opt/vethd"
rm -rf "$opt/vethd.old"
printf '#!/bin/sh\nexec /opt/vethd/node /opt/vethd/bin/vethd-cni "$@"\n' > "$cnibin/vethd.new"
chmod 0755 "$cnibin/vethd.new"
mv "$cnibin/vethd.new" "$cnibin/vethd"
