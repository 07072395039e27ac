# manifests/: YAML documents with positions, validation and defaults per
# kind, quantities, slipway.yaml expansion (unit), and data-driven cases
# through `slipway manifest validate` (tests/manifests/cases/<name>/).
slipway_unit_test(manifest slipway_manifests)
# the private header: positions, field paths, scalar resolution
target_include_directories(test_manifest PRIVATE ${PROJECT_SOURCE_DIR}/manifests)
slipway_unit_test(manifest_quantity slipway_manifests)

add_test(NAME conformance/manifests
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/manifests/run.sh $<TARGET_FILE:slipway>
          ${CMAKE_CURRENT_SOURCE_DIR}/manifests/cases)
set_tests_properties(conformance/manifests PROPERTIES LABELS conformance)
