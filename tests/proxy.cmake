# slipway-proxy (run/proxy*.c): unit tests of its pure parts (config,
# request parsing and matching, balancing, figures) and integration tests
# with real backends, wrk and hey on 127.0.0.1.
slipway_unit_test(proxy slipway_run)
target_include_directories(test_proxy PRIVATE ${PROJECT_SOURCE_DIR}/run)
target_link_libraries(test_proxy PRIVATE http_parser)

foreach(t proxy_l7 proxy_reload proxy_l4)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.sh)
    add_test(NAME integration/${t}
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.sh $<TARGET_FILE:slipway-proxy>)
    set_tests_properties(integration/${t} PROPERTIES LABELS integration TIMEOUT 300
      SKIP_RETURN_CODE 77)
  endif()
endforeach()
