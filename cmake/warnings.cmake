# Warnings and sanitizers, as INTERFACE targets linked PRIVATE by every target.
add_library(slipway_warnings INTERFACE)
target_compile_options(slipway_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wformat=2 -Wvla -Wpointer-arith -Wundef -Wcast-align
  -Wimplicit-fallthrough -Wsign-conversion -Wconversion
  $<$<C_COMPILER_ID:GNU>:-Wjump-misses-init>)
# -Wjump-misses-init (gcc only): a `goto out` past a cleanup_* declaration
# runs the cleanup on an uninitialised value; keep every declaration above
# the first goto.
# -Wconversion/-Wsign-conversion: lengths and offsets mix size_t and int in
# parsers of hostile input; we want every narrowing to be visible.
if(SLIPWAY_WERROR)
  target_compile_options(slipway_warnings INTERFACE -Werror)
endif()
target_compile_definitions(slipway_warnings INTERFACE _GNU_SOURCE
  SLIPWAY_VERSION="${PROJECT_VERSION}")

add_library(slipway_sanitize INTERFACE)
if(SLIPWAY_SANITIZE)
  target_compile_options(slipway_sanitize INTERFACE
    -fsanitize=${SLIPWAY_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(slipway_sanitize INTERFACE -fsanitize=${SLIPWAY_SANITIZE})
endif()

# Every slipway target gets both.
function(slipway_target t)
  target_link_libraries(${t} PRIVATE slipway_warnings slipway_sanitize)
endfunction()
