# The CLI's daemon verbs (helper "cli"): printers unit test, and the
# integration test that drives slipwayd through `slipway`.

# The printers are pure functions; build them into the test directly so it
# does not wait on the rest of slipway_run.
slipway_unit_test(printers slipway_manifests slipway_common)
target_sources(test_printers PRIVATE ${PROJECT_SOURCE_DIR}/run/printers.c
  ${PROJECT_SOURCE_DIR}/run/printers_yaml.c ${PROJECT_SOURCE_DIR}/run/printers_tab.c)
target_include_directories(test_printers PRIVATE ${PROJECT_SOURCE_DIR}/run/include)
target_link_libraries(test_printers PRIVATE PkgConfig::YAML PkgConfig::JANSSON)

# the API client (libcurl): paths, Status lines, targets, a daemon that is
# not there
slipway_unit_test(client slipway_manifests slipway_common)
target_sources(test_client PRIVATE ${PROJECT_SOURCE_DIR}/run/client.c)
target_include_directories(test_client PRIVATE ${PROJECT_SOURCE_DIR}/run/include)
target_link_libraries(test_client PRIVATE PkgConfig::LIBCURL PkgConfig::JANSSON)

# slipway's kubectl-style verbs against a real slipwayd in a temp state dir
if(TARGET slipwayd)
  add_test(NAME integration/cli_daemon
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli_daemon.sh $<TARGET_FILE:slipway>
            $<TARGET_FILE:slipwayd>)
  set_tests_properties(integration/cli_daemon PROPERTIES LABELS "integration;privileged"
    SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
