#!/bin/sh
# npm's install step runs this before node-gyp (package.json "install"): without a compiler, make
# or python, node-gyp fails after pages of gyp and make output; this says in one line what is
# missing and what to install, and exits 1. Exit 0 when node-gyp has all it calls.
#
# What node-gyp calls, and how it picks each: the Makefile gyp writes runs $(CC) and $(CXX),
# make's defaults cc and g++; node-gyp runs $MAKE or make; it runs the python named by
# $NODE_GYP_FORCE_PYTHON, npm's --python ($npm_config_python) or $PYTHON, else python3 or python.

missing=
need() { # need <command as configured>...: note the first word of the first one when none is found
  for c in "$@"; do
    command -v "${c%% *}" >/dev/null 2>&1 && return 0
  done
  missing="${missing:+$missing, }${1%% *}"
}

need "${CC:-cc}"
need "${CXX:-g++}"
need "${MAKE:-make}"
python=${NODE_GYP_FORCE_PYTHON:-${npm_config_python:-${PYTHON:-}}}
if [ -n "$python" ]; then need "$python"; else need python3 python; fi

[ -z "$missing" ] && exit 0
# g++ depends on gcc, which gives cc.
echo "vethd: cannot build the native addon: missing $missing (on Debian: apt-get install make g++ python3)" >&2
exit 1
