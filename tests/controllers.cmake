# Controllers (run/controller*.c, run/ctl_*.c): the pure helpers through the
# private ctl_internal.h, and the controllers against a temp-file store in
# which the test plays the kubelet (no containers needed).
slipway_unit_test(ctl_util slipway_run)
target_include_directories(test_ctl_util PRIVATE ${PROJECT_SOURCE_DIR}/run)
slipway_unit_test(controllers slipway_run PkgConfig::LIBEVENT)
target_include_directories(test_controllers PRIVATE ${PROJECT_SOURCE_DIR}/run)
# hundreds of store transactions per rollout; slow under ASan on a busy host
set_tests_properties(unit/controllers PROPERTIES TIMEOUT 900)
