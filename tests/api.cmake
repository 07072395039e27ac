# The API server (run/api*.c, run/token.c) and slipwayd's entry point.

# routing, Status bodies, patches, tables, discovery, tokens: no server
slipway_unit_test(api slipway_run)
target_include_directories(test_api PRIVATE ${PROJECT_SOURCE_DIR}/run)

# slipwayd over its Unix socket and TCP with curl: CRUD, 409, 401, 413,
# 400, watch, scale, logs
add_test(NAME integration/api
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/api.sh $<TARGET_FILE:slipwayd>)
set_tests_properties(integration/api PROPERTIES LABELS integration TIMEOUT 300
  SKIP_RETURN_CODE 77)

# the real kubectl against slipwayd's https listener
add_test(NAME integration/kubectl
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/kubectl.sh $<TARGET_FILE:slipwayd>)
set_tests_properties(integration/kubectl PROPERTIES LABELS integration TIMEOUT 300
  SKIP_RETURN_CODE 77)
