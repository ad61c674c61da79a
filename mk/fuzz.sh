#!/bin/sh
# make fuzz: builds every tests/fuzz/fuzz_*.c with libFuzzer, ASan and UBSan
# into build-fuzz/ and runs each for FUZZ_SECONDS (default 30), seeded from
# tests/fuzz/corpus/<name>/ when present.
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-30}
OUT=build-fuzz
mkdir -p "$OUT"
LIB_SRC=$(ls util/*.c net/*.c formats/*.c registry/*.c runners/*.c validator/report*.c validator/config.c pipelines/ci_env.c pipelines/package_json.c \
	pipelines/package_verify.c pipelines/sign.c pipelines/dsse.c pipelines/rollout.c pipelines/rollout_view.c)
for f in tests/fuzz/fuzz_*.c; do
	name=$(basename "$f" .c)
	echo "== $name"
	extra=""
	[ "$name" = fuzz_device_config ] && extra=device/config.c # the updater's own parser
	[ "$name" = fuzz_tolerances ] && extra=validator/run_once.c
	clang -std=c11 -D_GNU_SOURCE -DMG_VERSION='"fuzz"' -g -O1 -fsanitize=fuzzer,address,undefined -I. \
		$LIB_SRC $extra "$f" $(pkg-config --cflags --libs jansson libcrypto libcurl libarchive libmosquitto) -lpthread -lm -o "$OUT/$name"
	mkdir -p "$OUT/corpus/$name"
	seeds=""
	[ -d "tests/fuzz/corpus/$name" ] && seeds="tests/fuzz/corpus/$name"
	"$OUT/$name" -max_total_time="$SECONDS_EACH" -print_final_stats=0 "$OUT/corpus/$name" $seeds
done
