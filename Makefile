# modelgate: one build for everything. See README.md.
#   make            build the CLI and the host agent into $(BUILD)
#   make deps       install what building and running needs (Debian packages, ONNX Runtime)
#   make deps-test  and what the tests and benchmarks need
#   make check      build and run every test
#   make check-fresh  make demo, then make check, in a brand-new Debian 12 root
#   make demo       run the main job on examples/
#   make sanitize   run the tests under ASan+UBSan, in build-san/
#   make bench      run the benchmarks, appending to bench/RESULTS.md
#   make install    PREFIX=/usr/local DESTDIR= (bin/modelgate, libexec/modelgate/,
#                   share/modelgate/, share/man/man1/, bash and zsh completions under share/)
#   make dist       the release tarball and SHA256SUMS into dist/, built in build-dist/
#   make image      an OCI image of it, as an image layout in dist/image/ (tag VERSION)

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR  ?= $(PREFIX)/share
BUILD    ?= build
DIST_BUILD ?= build-dist
DIST_DIR ?= dist
IMAGE_BUILD ?= build-image
IMAGE_DIR ?= $(DIST_DIR)/image
CC       ?= cc
CFLAGS   ?= -O2 -g
VERSION  := 0.1.0
PKGS     := libgit2 libcurl jansson libarchive libcrypto libmosquitto

MG_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla \
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral \
	-I. -DMG_VERSION='"$(VERSION)"' -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

MODULES  := util net formats registry runners validator pipelines
LIB_SRC  := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
CLI_SRC  := $(wildcard cli/*.c)
TEST_SRC := $(wildcard tests/unit/test_*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TESTS    := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIB      := $(BUILD)/libmodelgate.a
CLI      := $(BUILD)/modelgate
# modelgate-device: the fleet updater (docs/FLEET.md), a program over the
# library like the CLI
DEVICE_SRC := $(wildcard device/*.c)
DEVICE_OBJ := $(DEVICE_SRC:%.c=$(BUILD)/%.o)
DEVICE   := $(BUILD)/modelgate-device

# modelgate-agent: libc and libdl only (ONNX Runtime is dlopen'ed), built for
# the host and cross-built for aarch64. Not part of libmodelgate.a.
ORT_DIR    := .deps/ort
AGENT_SRC  := runners/agent/agent.c runners/agent/engines.c runners/agent/engine_ort.c runners/agent/engine_tflite.c formats/tflite_fold.c formats/flatbuf.c \
	formats/tflite.c formats/tflite_ops.c formats/model_info.c formats/protobuf.c runners/agent/sha256.c runners/agent/evict.c \
	runners/agent/counter.c runners/cost.c runners/protocol.c formats/tensor.c runners/sysinfo.c util/error.c util/fs.c
AGENT_OBJ  := $(AGENT_SRC:%.c=$(BUILD)/agent/%.o)
AGENT      := $(BUILD)/modelgate-agent
AGENT_A64  := $(BUILD)/aarch64/modelgate-agent
# its LD_PRELOAD library for qemu-user (an aarch64 /proc/cpuinfo)
CPUINFO_A64 := $(BUILD)/aarch64/libmodelgate-cpuinfo.so
CC_A64     ?= aarch64-linux-gnu-gcc
AGENT_CFLAGS = $(MG_CFLAGS) -I$(ORT_DIR)/include
ORT_LIBDIR ?= $(abspath $(ORT_DIR))/lib
MG_CFLAGS  += -DMG_ORT_DIR='"$(ORT_LIBDIR)"'

# modelgate-device for aarch64: the device files and the library's, cross
# compiled into $(BUILD)/aarch64/obj (the link takes only the library objects
# the device uses from $(BUILD)/aarch64/libmodelgate.a) against the arm64
# sysroot that make deps lays in .deps/sysroot-arm64 (Debian 12's arm64
# libcurl, jansson, libarchive, OpenSSL, libmosquitto, and libgit2's headers);
# linked dynamically against its libraries, the C library the cross
# toolchain's. Like the aarch64 agent, -O2 -g whatever CFLAGS and LDFLAGS say
# (a sanitized build cannot cross-link); qemu-aarch64 -L .deps/sysroot-arm64
# runs it.
SYSROOT_A64 := .deps/sysroot-arm64
A64_LIBDIRS := $(SYSROOT_A64)/usr/lib/aarch64-linux-gnu:$(SYSROOT_A64)/lib/aarch64-linux-gnu
A64_CFLAGS := -isystem $(SYSROOT_A64)/usr/include -isystem $(SYSROOT_A64)/usr/include/aarch64-linux-gnu
A64_LIBS    = $(shell PKG_CONFIG_SYSROOT_DIR=$(SYSROOT_A64) \
	PKG_CONFIG_LIBDIR=$(SYSROOT_A64)/usr/lib/aarch64-linux-gnu/pkgconfig:$(SYSROOT_A64)/usr/share/pkgconfig \
	pkg-config --libs $(filter-out libgit2,$(PKGS)) $(DEVICE_PKGS) 2>/dev/null)
LIB_OBJ_A64 := $(LIB_SRC:%.c=$(BUILD)/aarch64/obj/%.o)
DEVICE_OBJ_A64 := $(DEVICE_SRC:%.c=$(BUILD)/aarch64/obj/%.o)
LIB_A64    := $(BUILD)/aarch64/libmodelgate.a
DEVICE_A64 := $(BUILD)/aarch64/modelgate-device

# libmodelgate-tflite.so: the TFLite engine's C++ shim over Arm NN 20.08
# (.deps/armnn, make deps), next to each agent, with Arm NN's libraries and
# backends copied into armnn/ beside it: its RPATH ($ORIGIN/armnn, DT_RPATH
# so that it also serves those libraries' own dependencies) finds them
# there, never a system libflatbuffers or Arm NN.
ARMNN_DIR  := .deps/armnn
CXX_A64    ?= aarch64-linux-gnu-g++
TFLITE     := $(BUILD)/libmodelgate-tflite.so
TFLITE_A64 := $(BUILD)/aarch64/libmodelgate-tflite.so
SHIM_SRC   := runners/agent/engine_tflite_armnn.cpp
SHIM_FLAGS := -std=c++14 -O2 -g -fPIC -shared -Wall -Wextra -Werror -I. -Wl,-z,defs \
	-Wl,--disable-new-dtags,-rpath,'$$$$ORIGIN/armnn'
SHIM_DEPS  := $(SHIM_SRC) runners/agent/engine_tflite_shim.h formats/tensor.h

# The release build (make dist sets RELEASE=1): no path of this checkout in
# the binaries, so that any checkout builds the same bytes, and an RPATH
# (DT_RPATH, which also serves the libraries' own dependencies) to the
# bundled lib/, seen from libexec/modelgate/ where the tarball has the binary.
ifeq ($(RELEASE),1)
MG_CFLAGS  += -ffile-prefix-map=$(CURDIR)=. -ffile-prefix-map=$(abspath $(BUILD))=build
SHIM_FLAGS += -ffile-prefix-map=$(CURDIR)=.
override LDFLAGS += -Wl,--disable-new-dtags,-rpath,'$$ORIGIN/../../lib'
endif

.PHONY: all deps deps-test check check-layers check-fresh unit cli-tests demo sanitize bench install dist image clean fuzz agents
all: $(CLI) $(DEVICE) $(AGENT) $(TFLITE) $(BUILD)/man/modelgate.1
agents: $(AGENT) $(AGENT_A64) $(CPUINFO_A64) $(TFLITE) $(TFLITE_A64) $(DEVICE_A64)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(MG_CFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	@$(AR) rcs $@ $^

$(CLI): $(CLI_OBJ) $(LIB)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(PKG_LIBS) -lpthread -lm

# The man pages and shell completions, from the command tables in the
# binary (mk/gen_docs.sh: modelgate help --man, modelgate completion).
$(BUILD)/man/modelgate.1: $(CLI) mk/gen_docs.sh
	@echo "  GEN     $(BUILD)/man $(BUILD)/completions"
	@mk/gen_docs.sh $(CLI) $(BUILD)

$(DEVICE): $(DEVICE_OBJ) $(LIB)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(DEVICE_OBJ) $(LIB) $(PKG_LIBS) -lpthread -lm

$(BUILD)/agent/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $< (agent)"
	@$(CC) $(AGENT_CFLAGS) $(CFLAGS) -c $< -o $@

$(AGENT): $(AGENT_OBJ)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(AGENT_OBJ) -ldl -pthread

# The aarch64 agent: never sanitized (it runs under qemu or on a device).
# valgrind's client-request headers are one set for every architecture: the
# host's, through a folder that holds only them, so that a board with
# valgrind can count a cost gate under callgrind.
$(AGENT_A64): $(AGENT_SRC) $(wildcard runners/agent/*.h runners/*.h formats/tensor.h util/util.h)
	@mkdir -p $(@D)/include
	@[ ! -d /usr/include/valgrind ] || ln -sfn /usr/include/valgrind $(@D)/include/valgrind
	@echo "  CC      $@ (aarch64)"
	@$(CC_A64) $(filter-out -MMD -MP,$(AGENT_CFLAGS)) -I$(@D)/include -O2 -g -o $@ $(AGENT_SRC) -ldl -pthread

$(BUILD)/aarch64/obj/%.o: %.c | $(SYSROOT_A64)/usr/include/jansson.h
	@mkdir -p $(@D)
	@echo "  CC      $< (aarch64)"
	@$(CC_A64) $(MG_CFLAGS) $(A64_CFLAGS) -O2 -g -c $< -o $@

$(LIB_A64): $(LIB_OBJ_A64)
	@rm -f $@
	@$(AR) rcs $@ $^

$(DEVICE_A64): $(DEVICE_OBJ_A64) $(LIB_A64)
	@echo "  LINK    $@ (aarch64)"
	@$(CC_A64) -O2 -g -o $@ $(DEVICE_OBJ_A64) $(LIB_A64) -L$(SYSROOT_A64)/usr/lib/aarch64-linux-gnu \
		-Wl,-rpath-link,$(A64_LIBDIRS) $(A64_LIBS) -lpthread -lm

$(SYSROOT_A64)/usr/include/jansson.h:
	@echo "make: '$@' is missing: run 'make deps' (it lays the arm64 sysroot)" >&2; exit 2

$(CPUINFO_A64): runners/agent/cpuinfo_preload.c
	@mkdir -p $(@D)
	@echo "  CC      $@ (aarch64)"
	@$(CC_A64) $(filter-out -MMD -MP,$(MG_CFLAGS)) -O2 -g -shared -fPIC -o $@ $< -ldl

# $(1): the shim, $(2): .deps/armnn/ARCH, $(3): the C++ compiler
define shim_rule
$(1): $(SHIM_DEPS) $(2)/lib/libarmnn.so.22
	@rm -rf $$(@D)/armnn
	@mkdir -p $$(@D)/armnn
	@cp -a $(2)/lib/. $$(@D)/armnn/
	@echo "  CXX     $$@"
	@$(3) $(SHIM_FLAGS) -I$(2)/include -o $$@ $(SHIM_SRC) $(2)/lib/libarmnnTfLiteParser.so.22 \
		$(2)/lib/libarmnn.so.22 -Wl,-rpath-link,$(2)/lib
endef
$(ARMNN_DIR)/%/lib/libarmnn.so.22:
	@echo "make: '$@' is missing: run 'make deps' (it fetches Arm NN 20.08)" >&2; exit 2
$(eval $(call shim_rule,$(TFLITE),$(ARMNN_DIR)/x64,$(CXX)))
$(eval $(call shim_rule,$(TFLITE_A64),$(ARMNN_DIR)/arm64,$(CXX_A64)))

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) -lcmocka -lpthread -lm

# the CLI's option parsing, the one CLI file with unit tests
$(BUILD)/tests/test_cli_opts: $(BUILD)/tests/unit/test_cli_opts.o $(BUILD)/cli/cli_opts.o $(LIB)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka -lpthread -lm

deps:
	@mk/deps.sh

deps-test:
	@mk/deps.sh test

# The layering (docs/ARCHITECTURE.md), the unit tests (one cmocka binary per
# module), then the CLI scripts.
check: deps-test
	@mk/check_layers.sh
	@$(MAKE) --no-print-directory unit cli-tests

check-layers:
	@mk/check_layers.sh

unit: $(TESTS) $(CLI) $(DEVICE) $(AGENT) $(TFLITE)
	@set -e; for t in $(TESTS); do echo "== $$t"; MG_TEST_TMP=$(abspath $(BUILD))/tmp $$t; done

# CLI_TESTS="t_a t_b": those CLI test files only (all by default), also
# under make check and make sanitize
cli-tests: $(CLI) $(DEVICE) $(AGENT) $(AGENT_A64) $(CPUINFO_A64) $(TFLITE) $(TFLITE_A64) $(DEVICE_A64) \
		$(BUILD)/man/modelgate.1
	@MODELGATE=$(abspath $(CLI)) tests/cli/run.sh $(CLI_TESTS)

demo: deps
	@$(MAKE) --no-print-directory all
	@MODELGATE=$(abspath $(CLI)) examples/demo.sh

# The README's two commands on a fresh clone of HEAD in a new Debian 12 root.
check-fresh: deps-test
	@mk/check_fresh.sh

# valgrind cannot run an ASan-instrumented agent: the cost gate's tests
# count with the plain agent of $(BUILD) (MG_PLAIN_AGENT), all else is
# sanitized.
sanitize: deps-test $(AGENT)
	@LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 UBSAN_OPTIONS=print_stacktrace=1 \
	MG_PLAIN_AGENT=$(abspath $(AGENT)) $(MAKE) --no-print-directory BUILD=build-san \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" unit cli-tests

fuzz:
	@mk/fuzz.sh

bench: deps-test
	@$(MAKE) --no-print-directory all agents
	@MODELGATE=$(abspath $(CLI)) bench/run.sh

install: all
	@mk/install.sh $(BUILD) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(ORT_DIR) $(DESTDIR)$(DATADIR)

# The ONNX Runtime fallback of a release is never used (each agent has its
# library beside it); it is set so that no path of this machine is built in.
dist:
	@$(MAKE) --no-print-directory BUILD=$(DIST_BUILD) RELEASE=1 ORT_LIBDIR=/usr/lib/modelgate \
		CFLAGS="-O2 -g" all agents
	@mk/dist.sh $(DIST_BUILD) $(VERSION) $(ORT_DIR) $(ARMNN_DIR) $(SYSROOT_A64) $(DIST_DIR)

# Needs root, mmdebstrap and umoci (make deps-test); see mk/image.sh.
image: dist
	@mk/image.sh $(DIST_DIR)/modelgate-$(VERSION)-linux-x86_64.tar.gz $(IMAGE_BUILD) $(IMAGE_DIR) $(VERSION)

clean:
	rm -rf build build-san build-fuzz build-dist build-image dist

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(DEVICE_OBJ:.o=.d) $(LIB_OBJ_A64:.o=.d) $(DEVICE_OBJ_A64:.o=.d) $(AGENT_OBJ:.o=.d) $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.d)
