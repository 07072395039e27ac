# The pod runtime (run/podrt*.c, run/shim.c, the slipway-shim binary) with
# the real parts: busybox image, layer cache, overlayfs, runc, cgroups.
# Needs root (77 otherwise). The test includes run/'s private podrt_int.h to
# read state.json and clean up after itself.
slipway_unit_test(podrt slipway_run)
target_include_directories(test_podrt PRIVATE ${PROJECT_SOURCE_DIR}/run ${PROJECT_SOURCE_DIR}/build)
target_compile_definitions(test_podrt PRIVATE SRC_DIR="${PROJECT_SOURCE_DIR}"
  SHIM_PATH="$<TARGET_FILE:slipway-shim>")
add_dependencies(test_podrt slipway-shim)
set_tests_properties(unit/podrt PROPERTIES LABELS "unit;privileged" SKIP_RETURN_CODE 77 TIMEOUT 600)
