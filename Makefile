# wstream — every target installs what it needs (libzstd-dev through apt) when it is missing.
SWIFT       ?= swift
RELEASE     := .build/release/wstream

# The demo: a synthetic model shaped like LFM2-1.2B (the project's motivating model), packed at 4 bits,
# run under a budget smaller than its weights.
DEMO_SHAPE  ?= lfm2-1.2b
DEMO_BUDGET ?= 700M
DEMO_DIR    := SampleWeights/$(DEMO_SHAPE)
DEMO_MODEL  := SampleWeights/$(DEMO_SHAPE)-q4.wst
DEMO_PROMPT ?= Once upon a time, in a small town by the sea, there lived an old clockmaker who

.PHONY: deps build release test demo demo-model bench portable clean sweep pack-faults soak cgroup-run fuzz fuzz-build fuzz-corpus sanitize

deps:
	@dpkg -s libzstd-dev >/dev/null 2>&1 || { \
		echo "installing libzstd-dev (apt)…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libzstd-dev pkg-config; }

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product wstream

# Unit and end-to-end tests. The end-to-end tests (budget, pack, verify) run the release binary built first.
test: release
	$(SWIFT) test

# Generated once into SampleWeights/ (git-ignored) and reused.
demo-model: release
	@[ -f $(DEMO_DIR)/config.json ] || $(RELEASE) synth --shape $(DEMO_SHAPE) --out $(DEMO_DIR)
	@[ -f $(DEMO_MODEL) ] || $(RELEASE) pack $(DEMO_DIR) -o $(DEMO_MODEL)

demo: demo-model
	$(RELEASE) inspect $(DEMO_MODEL)
	$(RELEASE) run $(DEMO_MODEL) --budget $(DEMO_BUDGET) --prompt "$(DEMO_PROMPT)" -n 64 --stats

# Figures: the kernels on a model-sized set against the memory's bandwidth, then the demo model at each of
# BENCH_BUDGETS in a fresh process, on the host and (as root, where a memory cgroup is writable) inside a cgroup of
# each size; results.md, chart.svg and results.json go to bench/ (git-ignored; bench/<shape>/ hold the committed
# figures beside llama.cpp). A llama.cpp you already have runs
# side by side with PEER_LLAMA_BENCH=path/to/llama-bench PEER_GGUF=its GGUF of the same weights.
BENCH_BUDGETS ?= 4G,700M,350M
BENCH_PEER    := $(if $(PEER_LLAMA_BENCH),--peer-llama-bench $(PEER_LLAMA_BENCH) --peer-gguf $(PEER_GGUF))
BENCH_CGROUP  := $(if $(filter 0,$(shell id -u)),--cgroup)

bench: demo-model
	$(RELEASE) bench --kernels
	$(RELEASE) bench $(DEMO_MODEL) --budgets $(BENCH_BUDGETS) $(BENCH_CGROUP) $(BENCH_PEER) --output bench

# The corruption sweep: every header bit and SWEEP_FLIPS random bits flipped one at a time in a 4-bit stories260K and
# tiny-lfm2 pack, each run; prints each file's outcomes per area and fails on a crash, a hang or a change without an error.
SHARED      ?= $(or $(WSTREAM_SHARED),../shared)
SWEEP_FLIPS ?= 10000
SWEEP_DIR   := .build/sweep

sweep: release
	@mkdir -p $(SWEEP_DIR)
	$(RELEASE) pack $(SHARED)/models/stories260K/hf -o $(SWEEP_DIR)/stories260K-q4.wst
	$(RELEASE) pack $(SHARED)/models/tiny-lfm2/hf -o $(SWEEP_DIR)/tiny-lfm2-q4.wst
	$(RELEASE) flip-sweep $(SWEEP_DIR)/stories260K-q4.wst --flips $(SWEEP_FLIPS) --every-header-bit --jobs 2 --report $(SWEEP_DIR)/stories260K-flips.tsv
	$(RELEASE) flip-sweep $(SWEEP_DIR)/tiny-lfm2-q4.wst --flips $(SWEEP_FLIPS) --every-header-bit --jobs 2 --report $(SWEEP_DIR)/tiny-lfm2-flips.tsv

# Faults while packing: PACK_FAULT_RUNS packs each past a file-size limit, into a full tmpfs (as root), and killed by
# SIGKILL and SIGTERM at random moments; the target is complete or absent and no temporary file outlives the next pack.
PACK_FAULT_RUNS ?= 20

pack-faults: release
	Tools/pack-faults.sh $(PACK_FAULT_RUNS)

# The soak: SOAK_SECONDS of mixed concurrent requests (chat and completions, streamed or not, prompts at the context
# limit, clients going away midway, idle unloads and reloads) against `wstream serve` with stories260K and tiny-lfm2
# under SOAK_BUDGET, its RSS sampled every 100 ms; fails on a peak over the budget, any 5xx or a drift over 5 %.
SOAK_SECONDS ?= 600
SOAK_BUDGET  ?= 64M
SOAK_DIR     := .build/soak

soak: release
	$(SWIFT) build --product wstream-soak
	@mkdir -p $(SOAK_DIR)
	$(RELEASE) pack $(SHARED)/models/stories260K/hf -o $(SOAK_DIR)/stories260K-q4.wst
	$(RELEASE) pack $(SHARED)/models/tiny-lfm2/hf -o $(SOAK_DIR)/tiny-lfm2-q4.wst
	.build/debug/wstream-soak --model stories=$(SOAK_DIR)/stories260K-q4.wst --model lfm2=$(SOAK_DIR)/tiny-lfm2-q4.wst \
		--budget $(SOAK_BUDGET) --seconds $(SOAK_SECONDS)

# `wstream run` inside a memory cgroup of its budget + 10 % (as root), at each of CGROUP_BUDGETS: the budget is the
# process's whole footprint, page cache included.
CGROUP_MODEL   ?= $(DEMO_MODEL)
CGROUP_BUDGETS ?= 700M 300M

cgroup-run: release
	@[ -f "$(CGROUP_MODEL)" ] || [ "$(CGROUP_MODEL)" != "$(DEMO_MODEL)" ] || $(MAKE) demo-model
	Tools/cgroup-run.sh $(CGROUP_MODEL) $(CGROUP_BUDGETS)

# A release binary without -target-cpu native, for CPUs older than the build machine's.
portable: deps
	WSTREAM_PORTABLE=1 $(SWIFT) build -c release --product wstream --scratch-path .build-portable

# Fuzzing (not part of `test`): each libFuzzer target of Fuzzing/ runs SECONDS seconds, one after another, from
# Tests/Fuzz/<target>/corpus, seeds it writes (generated, and made from ../shared/models) and what earlier runs found
# (.build-fuzz/<target>/). Crash, leak and timeout reproducers land in Tests/Fuzz/<target>/crashes/; fix each and
# name it in Tests/WStreamFuzzingTests/ReproducerTests.swift. `make fuzz-corpus` merges what the runs found into the
# committed corpora (small inputs only), keeping an input only when it adds coverage.
SECONDS     ?= 60
FUZZ_TARGETS ?= gguf safetensors wst frame tokenizer template
FUZZ_BUILD  := swift build --package-path Fuzzing -Xswiftc -O -Xswiftc -sanitize=address \
	-Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table
FUZZ_BIN    := Fuzzing/.build/debug
FUZZ_WORK   := .build-fuzz
# The largest committed corpus input; larger ones (the shared model files, their mutations) stay in .build-fuzz.
FUZZ_COMMIT_BYTES ?= 32768
# Each .wst input opens a model, whose streamer queue libdispatch frees after the input returns: LeakSanitizer would
# then scan the whole heap after every input (3.4 times slower). Leaks on that path are `make sanitize`'s to find.
FUZZ_WST_OPTIONS := -detect_leaks=0 -max_len=32768
# Swift's own crash reporter would run before libFuzzer's and trip AddressSanitizer itself: leave traps to libFuzzer.
FUZZ_ENV    := SWIFT_BACKTRACE=enable=no

fuzz-build: deps
	@# gold warns once per AddressSanitizer helper symbol it cannot export: hundreds of lines that say nothing.
	bash -o pipefail -c "$(FUZZ_BUILD) 2>&1 | { grep -v 'Cannot export local symbol' || true; }"

fuzz: fuzz-build
	@status=0; for target in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_WORK)/$$target/found Tests/Fuzz/$$target/corpus Tests/Fuzz/$$target/crashes; \
		$(FUZZ_ENV) $(FUZZ_BIN)/fuzz-$$target seeds $(FUZZ_WORK)/$$target/seeds || exit 1; \
		echo "fuzz-$$target: $(SECONDS) s"; \
		extra=; [ $$target = wst ] && extra="$(FUZZ_WST_OPTIONS)"; \
		$(FUZZ_ENV) $(FUZZ_BIN)/fuzz-$$target $(FUZZ_WORK)/$$target/found Tests/Fuzz/$$target/corpus $(FUZZ_WORK)/$$target/seeds \
			-max_total_time=$(SECONDS) -timeout=20 -print_final_stats=1 $$extra \
			-artifact_prefix=Tests/Fuzz/$$target/crashes/ > $(FUZZ_WORK)/$$target/last.log 2>&1 \
			|| { status=1; echo "fuzz-$$target found a problem: see $(FUZZ_WORK)/$$target/last.log and Tests/Fuzz/$$target/crashes/"; }; \
		grep -E '^(stat::number_of_executed_units|stat::new_units_added)|^#[0-9]+.*(DONE|pulse)' $(FUZZ_WORK)/$$target/last.log | tail -3; \
	done; exit $$status

fuzz-corpus: fuzz-build
	@for target in $(FUZZ_TARGETS); do \
		rm -rf $(FUZZ_WORK)/$$target/small && mkdir -p $(FUZZ_WORK)/$$target/small; \
		find $(FUZZ_WORK)/$$target/found $(FUZZ_WORK)/$$target/seeds -type f -size -$$(( $(FUZZ_COMMIT_BYTES) / 1024 + 1 ))k \
			-exec cp {} $(FUZZ_WORK)/$$target/small/ \; ; \
		$(FUZZ_ENV) $(FUZZ_BIN)/fuzz-$$target -merge=1 Tests/Fuzz/$$target/corpus $(FUZZ_WORK)/$$target/small \
			> $(FUZZ_WORK)/$$target/merge.log 2>&1 || { echo "merge of $$target failed: $(FUZZ_WORK)/$$target/merge.log"; exit 1; }; \
		echo "$$target: $$(ls Tests/Fuzz/$$target/corpus | wc -l) inputs, $$(du -sk Tests/Fuzz/$$target/corpus | cut -f1) KiB"; \
	done

# Sanitizers (not part of `test`): the release CLI built with AddressSanitizer (LeakSanitizer included) into
# .build-asan and with ThreadSanitizer into .build-tsan, each run over the real models by Tools/sanitize.sh (pack,
# inspect, verify, run resident and streamed, eval, template); the first report fails the target. valgrind is no
# alternative here: it crashes on binaries built for the native CPU (../shared/MEASURED.md).
SANITIZERS ?= address thread

sanitize: deps
	@for kind in $(SANITIZERS); do \
		case $$kind in address) scratch=.build-asan;; thread) scratch=.build-tsan;; *) echo "unknown sanitizer $$kind"; exit 1;; esac; \
		echo "building wstream with -sanitize=$$kind into $$scratch"; \
		bash -o pipefail -c "$(SWIFT) build -c release --product wstream -Xswiftc -sanitize=$$kind --scratch-path $$scratch 2>&1 \
			| { grep -v 'Cannot export local symbol' || true; } | tail -n 3" || exit 1; \
		Tools/sanitize.sh $$kind $$scratch/release/wstream || exit 1; \
	done

clean:
	rm -rf .build .build-portable .build-fuzz .build-asan .build-tsan Fuzzing/.build
