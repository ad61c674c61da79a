# modelgate: one build for everything. See README.md.
#   make            build the CLI and the host agent into $(BUILD)
#   make deps       install what is missing (Debian packages, ONNX Runtime)
#   make check      build and run every test
#   make demo       run the main job on examples/
#   make sanitize   run the tests under ASan+UBSan, in build-san/
#   make bench      run the benchmarks, appending to bench/RESULTS.md
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
BUILD    ?= build
CC       ?= cc
CFLAGS   ?= -O2 -g
VERSION  := 0.1.0
PKGS     := libgit2 libcurl jansson libarchive libcrypto

MG_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla \
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral \
	-I. -DMG_VERSION='"$(VERSION)"' -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

MODULES  := util registry runners validator pipelines
LIB_SRC  := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
CLI_SRC  := $(wildcard cli/*.c)
TEST_SRC := $(wildcard tests/unit/test_*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TESTS    := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIB      := $(BUILD)/libmodelgate.a
CLI      := $(BUILD)/modelgate

.PHONY: all deps check unit cli-tests demo sanitize bench install clean fuzz
all: $(CLI)

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

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) -lcmocka -lpthread -lm

deps:
	@mk/deps.sh

# Unit tests (one cmocka binary per module), then the CLI scripts.
check: deps
	@$(MAKE) --no-print-directory unit cli-tests

unit: $(TESTS) $(CLI)
	@set -e; for t in $(TESTS); do echo "== $$t"; MG_TEST_TMP=$(abspath $(BUILD))/tmp $$t; done

cli-tests: $(CLI)
	@MODELGATE=$(abspath $(CLI)) tests/cli/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@MODELGATE=$(abspath $(CLI)) examples/demo.sh

sanitize: deps
	@LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) UBSAN_OPTIONS=print_stacktrace=1 \
	$(MAKE) --no-print-directory BUILD=build-san \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" unit cli-tests

fuzz:
	@mk/fuzz.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@MODELGATE=$(abspath $(CLI)) bench/run.sh

install: $(CLI)
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/modelgate

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.d)
