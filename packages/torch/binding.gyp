{
  "targets": [
    {
      "target_name": "labelwise_torch",
      "sources": ["native/ops.cc", "native/tensor.cc", "native/runtime.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/torch-config.mjs include)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "ldflags": ["<!@(node scripts/torch-config.mjs ldflags)"],
      "libraries": ["<!@(node scripts/torch-config.mjs libs)"]
    }
  ]
}
