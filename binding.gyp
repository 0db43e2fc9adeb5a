{
  "targets": [
    {
      "target_name": "vethd",
      "sources": [
        "native/binding.cc",
        "native/bpfconv.c",
        "native/caps.c",
        "native/filter.c",
        "native/frame.c",
        "native/hostlink.c",
        "native/hostpath.c",
        "native/ifconf.c",
        "native/linkmon.c",
        "native/netdev.c",
        "native/netns.c",
        "native/notify.c",
        "native/peercred.c",
        "native/psock.c",
        "native/relay/ctl.c",
        "native/relay/follow.c",
        "native/relay/live.c",
        "native/relay/loop.c",
        "native/relay/rx.c",
        "native/relay/setup.c",
        "native/relay/stats.c",
        "native/relay/tx.c",
        "native/rxcpu.c",
        "native/ring.c",
        "native/tap.c",
        "native/txguard.c",
        "native/vnictab.c"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["_GNU_SOURCE", "NAPI_VERSION=8"]
    }
  ]
}
