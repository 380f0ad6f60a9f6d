# gfs: one non-recursive Makefile.
#
#   make            build bin/gfs, bin/gfs-leader, bin/gfs-chunkd
#   make deps       install missing Debian packages
#   make run        start the seed's cluster in the foreground (data in ./var)
#   make test       the whole suite through prove (SANITIZE=1: ASan+UBSan)
#   make bench      benchmarks, writes BENCHMARKS.md
#   make lint       man pages through groff -ww and mandoc -Tlint
#   make fuzz       libFuzzer targets of t/fuzz/, FUZZ_TIME=60 s each
#   make install    PREFIX=/usr/local DESTDIR=

CC	?= cc
PREFIX	?= /usr/local
CFLAGS	?= -g -O2
WARN	 = -std=c11 -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wvla
DEFS	 = -D_GNU_SOURCE
CPPFLAGS += -Ilib -MMD -MP $(DEFS)
# Only SHA-256 of libcrypto, linked in: see lib/hash.c.
LDLIBS_LIB = -Wl,-Bstatic -lcrypto -Wl,-Bdynamic
ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif
ALL_CFLAGS = $(WARN) $(CFLAGS)

DEB_PKGS = build-essential libevent-dev libcjson-dev libdb-dev libssl-dev groff-base

LIB_SRCS = lib/daemon.c lib/proto.c lib/log.c lib/xmalloc.c lib/hash.c lib/ring.c \
	   lib/chunker.c lib/server.c lib/client.c lib/meta.c lib/put.c \
	   lib/get.c lib/crash.c
LEADER_SRCS = server/leader/main.c server/leader/cmd.c server/leader/db.c \
	      server/leader/member.c server/leader/gc.c
CHUNK_SRCS = server/chunk/main.c server/chunk/cmd.c server/chunk/segment.c \
	     server/chunk/index.c server/chunk/hello.c server/chunk/repair.c \
	     server/chunk/gcfence.c server/chunk/compact.c
GFS_SRCS = cmd/gfs/gfs.c cmd/gfs/put.c cmd/gfs/get.c cmd/gfs/rm.c \
	   cmd/gfs/ls.c cmd/gfs/status.c cmd/gfs/fsck.c cmd/gfs/versions.c \
	   cmd/gfs/bench.c cmd/gfs/tree.c
UNIT_SRCS = $(wildcard t/unit/*.c)
UNIT_BINS = $(UNIT_SRCS:.c=.t)
HELPERS = t/helper/gfs-raw t/helper/dedup-measure t/helper/gfs-proxy \
	  t/helper/chunk-bench t/helper/gfs-keep

LIB_OBJS = $(LIB_SRCS:.c=.o)
LEADER_OBJS = $(LEADER_SRCS:.c=.o)
CHUNK_OBJS = $(CHUNK_SRCS:.c=.o)
GFS_OBJS = $(GFS_SRCS:.c=.o)
BINS = bin/gfs bin/gfs-leader bin/gfs-chunkd

all: deps-check $(BINS) $(UNIT_BINS) $(HELPERS)

# Fail early with a clear message; `make deps` installs what is missing.
deps-check:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then $(MAKE) --no-print-directory deps; fi

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing </dev/null; \
	fi

# Objects depend on the flags, so SANITIZE=1 and back rebuilds everything.
BUILD_FLAGS = $(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS)
.build-flags: FORCE
	@echo '$(BUILD_FLAGS)' | cmp -s - $@ || echo '$(BUILD_FLAGS)' >$@

%.o: %.c .build-flags
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

lib/libgfs.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

bin/gfs-leader: $(LEADER_OBJS) lib/libgfs.a
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ -levent -ldb -lcjson $(LDLIBS_LIB)

bin/gfs-chunkd: $(CHUNK_OBJS) lib/libgfs.a
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ -levent -lcjson $(LDLIBS_LIB) -lpthread

bin/gfs: $(GFS_OBJS) lib/libgfs.a
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ -lcjson $(LDLIBS_LIB)

t/unit/index.t: t/unit/index.o server/chunk/index.o lib/libgfs.a
	$(CC) $(LDFLAGS) -o $@ $^ -levent $(LDLIBS_LIB)

t/unit/segment.t: t/unit/segment.o server/chunk/segment.o server/chunk/index.o \
		  lib/libgfs.a
	$(CC) $(LDFLAGS) -o $@ $^ -levent $(LDLIBS_LIB) -lpthread

t/unit/%.t: t/unit/%.o lib/libgfs.a
	$(CC) $(LDFLAGS) -o $@ $^ -levent $(LDLIBS_LIB)

t/helper/gfs-raw: t/helper/gfs-raw.o t/helper/hutil.o
	$(CC) $(LDFLAGS) -o $@ $^

t/helper/gfs-proxy: t/helper/gfs-proxy.o t/helper/hutil.o
	$(CC) $(LDFLAGS) -o $@ $^

# Not run by make test: fixed against cdc chunking over edited versions.
t/helper/dedup-measure: t/helper/dedup-measure.o lib/libgfs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_LIB)

# One long-lived client driven line by line from a test (t3100).
t/helper/gfs-keep: t/helper/gfs-keep.o t/helper/hutil.o lib/libgfs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_LIB)

# Not run by make test: t/bench-million.sh fills a chunk server with it.
t/helper/chunk-bench: t/helper/chunk-bench.o t/helper/hutil.o lib/libgfs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_LIB)

run: all
	@./t/run-cluster.sh

# Sanitized servers run about 3 times slower: polled waits get longer
# bounds (t/test-lib.sh wait_for), timing assertions stay as they are.
test: all
	$(if $(filter 1,$(SANITIZE)),GFS_TEST_SLOW=3) prove -j2 --timer t/unit/*.t t/t[0-9]*.sh

sanitize:
	$(MAKE) clean
	$(MAKE) test SANITIZE=1

bench: all
	./t/bench.sh

lint:
	@for m in man/*.[0-9]; do \
	  out=$$(groff -mdoc -ww -z $$m 2>&1); \
	  [ -z "$$out" ] || { echo "$$m: $$out"; exit 1; }; \
	done; echo "man pages clean"

# libFuzzer targets t/fuzz/<name>.c, built by clang from the sources into
# t/fuzz/build/ (never the gcc objects), each run FUZZ_TIME seconds over
# its seeds in t/fuzz/corpus/<name>/; new inputs, logs and crashes go to
# t/fuzz/out/, and a crash fails the target.
FUZZ_CC	 = clang-14
FUZZ_TIME ?= 60
FUZZ_PKGS = clang-14 libclang-rt-14-dev
FUZZ_CFLAGS = $(WARN) -g -O1 -fno-omit-frame-pointer \
	      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS = proto_fuzz ring_fuzz

t/fuzz/build/proto_fuzz: lib/proto.c lib/xmalloc.c
t/fuzz/build/ring_fuzz: lib/ring.c lib/hash.c lib/xmalloc.c
t/fuzz/build/%: t/fuzz/%.c $(wildcard lib/*.h) | fuzz-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ilib $(DEFS) -o $@ $(filter %.c,$^) -lcrypto

fuzz-deps:
	@$(MAKE) --no-print-directory deps DEB_PKGS='$(FUZZ_PKGS)'

fuzz: $(FUZZ_TARGETS:%=t/fuzz/build/%)
	@fail=0; for f in $(FUZZ_TARGETS); do \
	  mkdir -p t/fuzz/out/corpus/$$f; echo "fuzz: $$f for $(FUZZ_TIME) s"; \
	  if t/fuzz/build/$$f -max_total_time=$(FUZZ_TIME) -max_len=16384 \
	      -timeout=10 -artifact_prefix=t/fuzz/out/$$f- \
	      t/fuzz/out/corpus/$$f t/fuzz/corpus/$$f >t/fuzz/out/$$f.log 2>&1; then \
	    grep '^Done' t/fuzz/out/$$f.log; \
	  else \
	    fail=1; tail -n 40 t/fuzz/out/$$f.log; \
	    echo "fuzz: $$f FAILED, log in t/fuzz/out/$$f.log"; \
	  fi; \
	done; exit $$fail

.PHONY: fuzz fuzz-deps

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 man/gfs.1 $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 man/gfs-protocol.7 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 644 man/gfs-leader.8 man/gfs-chunkd.8 $(DESTDIR)$(PREFIX)/share/man/man8

clean:
	rm -rf bin lib/libgfs.a .build-flags $(LIB_OBJS) $(LEADER_OBJS) $(CHUNK_OBJS) \
	  $(GFS_OBJS) t/unit/*.o t/unit/*.t t/helper/*.o $(HELPERS) \
	  $(shell find . -name '*.d' -not -path './.git/*')

FORCE:

.PHONY: all deps deps-check run test sanitize bench lint install clean FORCE
.SECONDARY:

-include $(shell find lib server cmd t -name '*.d' 2>/dev/null)
