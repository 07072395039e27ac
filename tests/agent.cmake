# Node agent (run/agent*.c, run/probe*.c, run/ports.c): the pure parts
# through the private run/agent_int.h (back-off, probe state machine on a
# fake clock, phase/conditions, ports, container config against a temp
# store; probe checks against servers on 127.0.0.1).
slipway_unit_test(agent slipway_run)
target_include_directories(test_agent PRIVATE ${PROJECT_SOURCE_DIR}/run)
slipway_unit_test(probe slipway_run)
target_include_directories(test_probe PRIVATE ${PROJECT_SOURCE_DIR}/run)
target_link_libraries(test_probe PRIVATE PkgConfig::LIBEVENT)

# With real containers: test_agent_rt (a plain program, not cmocka: every
# step waits on real processes) run by integration/agent.sh after it built
# the hello image into a fresh state dir; root only (exit 77 otherwise).
add_executable(test_agent_rt unit/test_agent_rt.c)
target_link_libraries(test_agent_rt PRIVATE slipway_run PkgConfig::LIBEVENT)
target_include_directories(test_agent_rt PRIVATE ${PROJECT_SOURCE_DIR}/run)
slipway_target(test_agent_rt)
add_test(NAME integration/agent
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/agent.sh $<TARGET_FILE:slipway>
          $<TARGET_FILE:test_agent_rt> $<TARGET_FILE:slipway-shim>)
set_tests_properties(integration/agent PROPERTIES LABELS "integration;privileged" TIMEOUT 900
  SKIP_RETURN_CODE 77)
