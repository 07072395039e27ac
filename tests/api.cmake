# The API server (run/api*.c, run/token.c) and slipwayd's entry point.

# HTTPS on the API's TCP listener (run/api_tls.c): kubectl sends bearer
# tokens only over https, so slipway_run needs libevent_openssl and libssl.
# This belongs in run/CMakeLists.txt; it sits here because that file is not
# the API's to edit.
pkg_check_modules(LIBEVENT_OPENSSL REQUIRED IMPORTED_TARGET libevent_openssl libssl)
target_link_libraries(slipway_run PUBLIC PkgConfig::LIBEVENT_OPENSSL)

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
