# The two README commands: `make demo` (the main job) and `make test` (every
# test). Both install what they need first. Everything builds under _build/
# (build/ is a source folder).

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 30
BUILD_DIR ?= _build/release
TEST_DIR ?= _build/test

.PHONY: all deps build demo test check fuzz clean

all: build

deps:
	@scripts/install-deps

# Optimised build with warnings as errors, no sanitizers: what `make demo` runs.
build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@SLIPWAY=$(BUILD_DIR)/cmd/slipway examples/demo.sh

# Every test under ASan+UBSan, then a short fuzz run of every parser. The
# optimised build comes first: some warnings only appear with optimisation,
# and `make demo` uses that build.
test: build check fuzz

# ctest only (no fuzzing): unit, conformance, fuzz corpus replay, CLI.
check: deps
	@cmake -S . -B $(TEST_DIR) -DCMAKE_BUILD_TYPE=Debug -DSLIPWAY_SANITIZE=address,undefined -DBUILD_TESTING=ON >/dev/null
	@cmake --build $(TEST_DIR) -j $(JOBS)
	@cd $(TEST_DIR) && ctest --output-on-failure -j $(JOBS) -LE slow

fuzz: deps
	@scripts/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf _build
