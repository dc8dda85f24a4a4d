# Xiaoan 校安 - build, run, test, bench.
#   make run    build, create a demo county on first run, serve the console
#   make test   every test, in a normal and an ASan+UBSan build

PKGS     := libmicrohttpd jansson sqlite3 libsodium liboath xlsxwriter libzip expat libcurl libpq proj geos
CC       ?= cc
CFLAGS   ?= -O2 -g
XCFLAGS  := -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -fno-strict-aliasing
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread
PKGCFLAGS:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ASANFLAGS:= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)

SRC      := $(shell find src -name '*.c' ! -path 'src/main.c' | sort)
UNIT     := $(wildcard tests/unit/test_*.c)
FUZZ     := $(wildcard fuzz/fuzz_*.c)

OBJ      := $(SRC:%.c=build/%.o)
AOBJ     := $(SRC:%.c=build-asan/%.o)
UNITBIN  := $(UNIT:tests/unit/%.c=build/tests/%)
AUNITBIN := $(UNIT:tests/unit/%.c=build-asan/tests/%)

DATA     ?= var
LISTEN   ?= 127.0.0.1:8080

.PHONY: all deps bench-deps build run test unit api bench bench-zone fuzz fuzz-brief clean asan web web-test

all: build

deps:
	@scripts/deps.sh

# make bench also needs PostGIS (bench/zone) and GeodSolve
bench-deps:
	@scripts/deps.sh --bench

build: build/xiaoan web

# The web console (web/): npm ci when the lock file changes, the Vite build
# into web/dist when a source changes; `xiaoan serve` serves web/dist at /.
WEB_SRC  := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.js web/package.json

web: build/web.stamp

build/npm.stamp: web/package.json web/package-lock.json
	@mkdir -p build
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("web: node "+process.versions.node+" is too old; the console build needs node >= 20.19"); process.exit(1) }'
	@echo "  NPM     web/node_modules (npm ci)"
	@flock build/web.lock sh -c 'cd web && npm ci --no-audit --no-fund --loglevel=error'
	@test -x web/node_modules/.bin/vite || { echo "web: npm ci left no web/node_modules/.bin/vite; run make again" >&2; exit 1; }
	@touch $@

build/web.stamp: build/npm.stamp $(WEB_SRC)
	@echo "  VITE    web/dist"
	@flock build/web.lock sh -c 'cd web && node_modules/.bin/vite build --logLevel warn'
	@touch $@

# the browser tests alone (make test runs them too, through tests/run.sh)
web-test: build
	@tests/web/run.sh

build/xiaoan: $(OBJ) build/src/main.o
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The objects that print the version are rebuilt when it changes (a new
# commit, a dirty tree), not only when their source does.
VSTAMP := build/version.stamp
$(VSTAMP): FORCE
	@mkdir -p build
	@echo '$(VERSION)' | cmp -s - $@ 2>/dev/null || echo '$(VERSION)' > $@
.PHONY: FORCE
FORCE:
VERSIONED := src/main.o src/routes.o src/core/server.o
$(addprefix build/,$(VERSIONED)) $(addprefix build-asan/,$(VERSIONED)) $(addprefix build-fuzz/,$(VERSIONED)): $(VSTAMP)

build/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(XCFLAGS) $(CFLAGS) $(PKGCFLAGS) -MMD -MP -DXIAOAN_VERSION='"$(VERSION)"' -c -o $@ $<

build/tests/%: tests/unit/%.c $(OBJ)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(XCFLAGS) $(CFLAGS) $(PKGCFLAGS) -Itests/unit -o $@ $< $(OBJ) $(LDLIBS) -lcmocka

asan: build-asan/xiaoan

build-asan/xiaoan: $(AOBJ) build-asan/src/main.o
	@echo "  LD      $@"
	@$(CC) $(ASANFLAGS) -o $@ $^ $(LDLIBS)

build-asan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/ASAN $<"
	@$(CC) $(XCFLAGS) $(ASANFLAGS) $(PKGCFLAGS) -MMD -MP -DXIAOAN_VERSION='"$(VERSION)"' -c -o $@ $<

build-asan/tests/%: tests/unit/%.c $(AOBJ)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(XCFLAGS) $(ASANFLAGS) $(PKGCFLAGS) -Itests/unit -o $@ $< $(AOBJ) $(LDLIBS) -lcmocka

run: deps build
	@scripts/run.sh build/xiaoan "$(DATA)" "$(LISTEN)"

unit: $(UNITBIN) $(AUNITBIN)

test: deps
	@$(MAKE) --no-print-directory build asan $(UNITBIN) $(AUNITBIN) fuzz-build
	@tests/run.sh

# libFuzzer harnesses: clang, linked against the sources built with coverage.
FZFLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined
FZOBJ    := $(SRC:%.c=build-fuzz/%.o)
FZBIN    := $(FUZZ:fuzz/%.c=build-fuzz/%)

fuzz-build: $(FZBIN)

build-fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/FUZZ $<"
	@clang -MMD -MP $(XCFLAGS) -Wno-unused-command-line-argument -g -O1 -fsanitize=fuzzer-no-link,address,undefined $(PKGCFLAGS) -DXIAOAN_VERSION='"$(VERSION)"' -c -o $@ $<

build-fuzz/fuzz_%: fuzz/fuzz_%.c $(FZOBJ)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@clang $(XCFLAGS) $(FZFLAGS) $(PKGCFLAGS) -o $@ $< $(FZOBJ) $(LDLIBS)

# make fuzz [FUZZ_SECONDS=600]: every harness for as long as asked.
FUZZ_SECONDS ?= 300
fuzz: deps fuzz-build
	@for f in $(FZBIN); do n=$${f#build-fuzz/fuzz_}; mkdir -p fuzz/corpus/$$n fuzz/crashes; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=fuzz/crashes/$$n- fuzz/corpus/$$n || exit 1; done

bench: bench-deps build build/bench/zone_bench build/bench/zone_gen
	@bench/api/run.sh
	@BENCH_NO_BUILD=1 bench/zone/run.sh

# bench/zone alone (no web build): the zone engine, PostGIS and the venue API
bench-zone: bench-deps build/xiaoan build/bench/zone_bench build/bench/zone_gen
	@BENCH_NO_BUILD=1 bench/zone/run.sh

ZBENCH_SRC := bench/zone/gen.c bench/zone/gen.h
# the engine and what it calls: the bench needs no server, store or routes
ZBENCH_OBJ := build/src/zone/engine.o build/src/zone/rules_seed.o build/src/geo/geom.o build/src/geo/coord.o \
              build/src/core/buf.o

build/bench/zone_bench: bench/zone/zone_bench.c $(ZBENCH_SRC) $(ZBENCH_OBJ)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	@$(CC) $(XCFLAGS) $(CFLAGS) $(PKGCFLAGS) -Ibench/zone -o $@ bench/zone/zone_bench.c bench/zone/gen.c $(ZBENCH_OBJ) $(LDLIBS)

build/bench/zone_gen: bench/zone/gen_main.c $(ZBENCH_SRC)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	@$(CC) $(XCFLAGS) $(CFLAGS) -Ibench/zone -o $@ bench/zone/gen_main.c bench/zone/gen.c -lm

-include $(shell find build build-asan build-fuzz -name '*.d' 2>/dev/null)

clean:
	rm -rf build build-asan build-fuzz
