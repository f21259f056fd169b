{
  "targets": [
    {
      "target_name": "moevl_blas",
      "sources": ["moevl_blas.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-O2", "-std=c++17"],
      "conditions": [
        ["OS=='linux'", {
          "defines": ["MOEVL_OPENBLAS"],
          "include_dirs": ["/usr/include/openblas"],
          "libraries": ["-lopenblas"]
        }],
        ["OS=='mac'", {
          "defines": ["MOEVL_ACCELERATE", "ACCELERATE_NEW_LAPACK"],
          "libraries": ["-framework Accelerate"],
          "xcode_settings": {
            "OTHER_CPLUSPLUSFLAGS": ["-O2", "-std=c++17"],
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          }
        }]
      ]
    }
  ]
}
