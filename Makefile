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

.PHONY: deps build release test demo demo-model bench portable clean sweep pack-faults soak cgroup-run

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

# Figures: kernels, then the demo model at several budgets (each in a fresh process).
bench: demo-model
	$(RELEASE) bench $(DEMO_MODEL) --kernels --budgets 2G,700M,500M,350M

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

clean:
	rm -rf .build .build-portable
