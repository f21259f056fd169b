{
  "targets": [
    {
      "target_name": "moevl_blas",
      "sources": ["moevl_blas.cc", "moevl_kernels.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off", "-fopenmp-simd"],
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
            "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off", "-fopenmp-simd"],
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          }
        }]
      ]
    }
  ]
}
