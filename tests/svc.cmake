# tests/svc.cmake - Services end to end (issue 6): slipwayd, slipway-proxy
# and runc pods of examples/hello; traffic to 127.0.0.1 only.
add_test(NAME e2e/service_traffic
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/e2e/service_traffic.sh $<TARGET_FILE:slipway>)
set_tests_properties(e2e/service_traffic PROPERTIES LABELS "e2e;privileged" TIMEOUT 900
  SKIP_RETURN_CODE 77 RESOURCE_LOCK slipway_service_ports)
