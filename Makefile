# clrun: build, run, test.
#   make            build/clrun
#   make run        install the missing packages running needs, build, train the quickstart
#   make check      install missing packages (the test tools too), build, run every test
#   make oclgrind-check  the kernel tests on Oclgrind, which checks every access
#   make rusticl-check  the kernel tests and LeNet on Mesa's rusticl, against POCL
#   make gpu-resources  the gpu plan's registers and spills on AMD, NVIDIA and Intel ISAs
#   make deps       install the Debian packages the project needs (only missing ones)
#   make deps-run   only those building and running clrun needs
#   make deps-slurm also try slurm-wlm and munge (optional: the Slurm sweep test)
#   make figures    render every kind of figure from small runs into build/figures/gallery
#   make parity-imagenet  models/resnet18.yaml against torchvision's resnet18 at
#                   full width, block by block (torch and torchvision from the
#                   Python package index into build/bench-venv)
#   make fuzz       build the libFuzzer targets (fuzz/) with clang, run each
#                   FUZZ_SECONDS (default 60) on a copy of its corpus
# Options: WERROR=1 (warnings are errors), SANITIZE=address,undefined.

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -DCL_TARGET_OPENCL_VERSION=120 -pthread \
           -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Iruntime -Itests -Ibuild/gen -MMD -MP
LDLIBS  := -lOpenCL -lyaml -lz -lpng -ljpeg -lplplot -lm -pthread
ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
# intercept_tls_get_addr=0: GCC 12's runtime guesses where a dynamic TLS
# block starts (a library's thread_local, allocated at its first use through
# __tls_get_addr; libclang-cpp's 8 bytes when POCL compiles a kernel) from
# glibc 2.19's layout: a block 16 bytes past a 4 KiB boundary is taken to be
# preceded by glibc's {size, start} header. glibc 2.25+ mallocs the block, so
# those 16 bytes are ASan's chunk header; the leak check then scans from the
# allocation's stack id (a small number) and the tracer dies on it ("Tracer
# caught signal 11: addr=0x860"), in whichever process's allocations happen
# to put the block there (google/sanitizers#1322). The blocks are ordinary
# heap chunks that each thread's DTV points to, so they are still scanned,
# and leaks are still reported, without that guess.
export LSAN_OPTIONS := suppressions=$(CURDIR)/tests/lsan.supp:intercept_tls_get_addr=0
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1
# POCL alone: Mesa's ICD loads a library (libdxcore) with RTLD_DEEPBIND,
# which AddressSanitizer's runtime refuses; rusticl runs in the plain pass.
export OCL_ICD_VENDORS := /etc/OpenCL/vendors/pocl.icd
endif

SRC      := $(shell find runtime -name '*.c' | sort)
LIB_OBJ  := $(patsubst %.c,build/obj/%.o,$(filter-out runtime/clrun.c,$(SRC)))
TEST_SRC := $(sort $(wildcard tests/*.c))
TEST_OBJ := $(patsubst %.c,build/obj/%.o,$(TEST_SRC))
CL_SRC   := cl/prelude.cl $(filter-out cl/prelude.cl,$(sort $(wildcard cl/*.cl)))

# Tests compile kernels once into a cache of their own.
export POCL_CACHE_DIR := $(CURDIR)/build/pocl-cache

.PHONY: all run check oclgrind-check rusticl-check gpu-resources bench parity-imagenet figures fuzz fuzz-run deps deps-run deps-slurm deps-fuzz clean FORCE
all: build/clrun

# Rebuilds everything when the flags change (WERROR=1, SANITIZE=...).
build/flags: FORCE
	@mkdir -p build
	@echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $@

build/gen/cl_sources.h: $(CL_SRC) tools/embed-cl
	@mkdir -p $(@D)
	tools/embed-cl $(CL_SRC) > $@.tmp && mv $@.tmp $@

build/obj/%.o: %.c build/flags | build/gen/cl_sources.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

build/clrun: build/obj/runtime/clrun.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

build/gemm_bench: build/obj/bench/gemm_bench.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# The readout step at the CS375 course's scale, on synthetic data (bench/readout_bench.c).
build/readout_bench: build/obj/bench/readout_bench.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# the cores' FP32 FMA peak (make bench's yardstick): plain C and pthreads
build/fma_peak: build/obj/bench/fma_peak.o
	$(CC) $(LDFLAGS) $^ -o $@ -pthread

build/check_clrun: $(TEST_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(shell pkg-config --libs check)

deps:
	@tools/install-deps

deps-run:
	@tools/install-deps --run

# After deps: two apt-gets at once (make -j) would fight over dpkg's lock.
deps-slurm: deps
	@tools/install-deps --slurm

deps-fuzz: deps
	@tools/install-deps --fuzz

# A finished quickstart of the same settings is up to date: its result again, exit 0.
run: deps-run
	@$(MAKE) --no-print-directory build/clrun
	build/clrun run experiments/quickstart.yaml

# The Slurm sweep test starts a cluster of its own; it says when it is skipped.
# With SANITIZE the Oclgrind and rusticl passes and the fuzzers are left out:
# the kernels are the same, Oclgrind's preloaded runtime cannot come before
# ASan's, Mesa's ICD cannot load under it, and the fuzzers are sanitized
# builds of their own.
check: deps-slurm
	@$(MAKE) --no-print-directory build/clrun build/check_clrun
	@mkdir -p build/pocl-cache build/test-tmp
	CK_DEFAULT_TIMEOUT=600 build/check_clrun
	tests/gpu-plan-check
ifeq ($(SANITIZE),)
	CLRUN_GEMM=clblast tests/gpu-plan-check layers
	tests/oclgrind-check
	tests/rusticl-check
	tools/gpu-resources
endif
	tests/slurm-sweep-test
ifeq ($(SANITIZE),)
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10
endif

# The suites that launch kernels again, on Oclgrind, with tiny shapes; any
# out-of-bounds access, data race or uninitialised value it reports fails.
oclgrind-check: deps
	@$(MAKE) --no-print-directory build/check_clrun
	tests/oclgrind-check

# The kernel suites under both plans on Mesa's rusticl, a second real OpenCL
# implementation, and LeNet's losses and layer outputs against POCL's.
rusticl-check: deps
	@$(MAKE) --no-print-directory build/clrun build/check_clrun
	tests/rusticl-check

# The gpu plan's kernels compiled for AMD gfx90a and gfx1030, NVIDIA sm_80 and
# Intel tgllp, acm-g10 and pvc: fails on private-memory spills or more than 128
# vector registers.
gpu-resources: deps
	tools/gpu-resources

# Every kind of figure clrun draws, from small runs (tools/make-figures).
figures: deps
	@$(MAKE) --no-print-directory build/clrun
	tools/make-figures

# clrun against Debian's PyTorch, the current PyTorch and tinygrad on this
# machine (bench/bench.py); the last two from the Python package index into
# build/bench-venv (bench/setup-venv: only when missing; without the index the
# bench compares with Debian's PyTorch alone). BENCH_ARGS="--rounds 3" etc.
bench: deps
	@tools/install-deps --bench
	@bench/setup-venv
	@$(MAKE) --no-print-directory build/clrun build/gemm_bench build/fma_peak
	/usr/bin/python3 bench/bench.py $(BENCH_ARGS)

# The resnet18 case of the parity suite on a fixture at torchvision's widths
# (224 x 224, 1,000 classes) made in the venv; not part of check, which uses
# the narrow fixture committed in tests/fixtures/. Prints every block's error.
PARITY_IMAGENET := build/parity-imagenet/resnet18
parity-imagenet: deps
	@bench/setup-venv
	@$(MAKE) --no-print-directory build/check_clrun
	build/bench-venv/bin/python tools/make-resnet18-fixture --width 64 --size 224 --classes 1000 \
	    $(PARITY_IMAGENET)
	@mkdir -p build/pocl-cache build/test-tmp
	CLRUN_RESNET18_FIXTURE=$(PARITY_IMAGENET) CLRUN_PARITY_REPORT=1 CK_RUN_SUITE=parity \
	    CK_RUN_CASE=resnet18 CK_DEFAULT_TIMEOUT=600 build/check_clrun

# Fuzzing (fuzz/): each target links only the loader it tests, built again
# with clang and the sanitizers into build/fuzz/ (no OpenCL device needed).
FUZZ_SECONDS ?= 60
FUZZ_CC      := clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Iruntime -Ifuzz -MMD -MP $(FUZZ_SAN)
FUZZ_TARGETS := spec idx cifar safetensors npy csv
FUZZ_IO      := runtime/io/file.c runtime/err.c
FUZZ_DATA    := runtime/data/idx.c runtime/data/cifar.c runtime/data/dataset.c runtime/data/sources.c \
                runtime/io/csv.c $(FUZZ_IO)
fuzz_src_spec        := runtime/spec.c $(FUZZ_IO)
fuzz_src_idx         := $(FUZZ_DATA)
fuzz_src_cifar       := $(FUZZ_DATA)
fuzz_src_safetensors := runtime/io/safetensors.c $(FUZZ_IO)
fuzz_src_npy         := runtime/io/npy.c $(FUZZ_IO)
fuzz_src_csv         := runtime/io/csv.c $(FUZZ_IO)
fuzz_obj = $(patsubst %.c,build/fuzz/obj/%.o,fuzz/$(1).c fuzz/fuzz.c $(fuzz_src_$(1)))

build/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

.SECONDEXPANSION:
$(addprefix build/fuzz/,$(FUZZ_TARGETS)): build/fuzz/%: $$(call fuzz_obj,$$*)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@ -lyaml -lz

fuzz: deps-fuzz
	@$(MAKE) --no-print-directory fuzz-run

# After deps-fuzz, which installs clang.
fuzz-run: $(addprefix build/fuzz/,$(FUZZ_TARGETS))
	fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf build

-include $(shell find build/obj build/fuzz/obj -name '*.d' 2>/dev/null)
