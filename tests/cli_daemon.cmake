# The CLI's daemon verbs (helper "cli"): printers unit test, and the
# integration test that drives slipwayd through `slipway`.

# The printers are pure functions; build them into the test directly so it
# does not wait on the rest of slipway_run.
slipway_unit_test(printers slipway_manifests slipway_common)
target_sources(test_printers PRIVATE ${PROJECT_SOURCE_DIR}/run/printers.c
  ${PROJECT_SOURCE_DIR}/run/printers_yaml.c)
target_include_directories(test_printers PRIVATE ${PROJECT_SOURCE_DIR}/run/include)
target_link_libraries(test_printers PRIVATE PkgConfig::YAML PkgConfig::JANSSON)
