# End-to-end scenarios: the whole build -> release -> run path with real parts.
add_test(NAME e2e/hello_deploy
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/e2e/hello_deploy.sh $<TARGET_FILE:slipway>)
set_tests_properties(e2e/hello_deploy PROPERTIES LABELS "e2e;privileged" TIMEOUT 900
  SKIP_RETURN_CODE 77)
# Services listen on fixed ports (8080 for hello): tests that make them
# take turns
set_tests_properties(e2e/hello_deploy PROPERTIES RESOURCE_LOCK slipway_service_ports)
