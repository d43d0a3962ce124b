// SPDX-License-Identifier: GPL-2.0
/*
 * pattern - fill memory with a reproducible pattern of chosen
 * compressibility, hold it, and verify every byte of it later.
 *
 * Every swap test of mzswap drives its data through this program: it fills
 * SIZE bytes of anonymous memory (or of a mapped file or block device),
 * optionally waits while the test applies pressure and reads counters, then
 * re-reads everything and compares it with the pattern regenerated from the
 * seed. All loops run inside this one process: starting a program in the
 * TCG guest costs ~35 ms.
 *
 * Each page's content is a function of (kind, seed, page index, version);
 * --rewrite bumps the version of a random subset of pages. Except for
 * "zero", every page carries a stamp (its index and version, masked by the
 * seed) in its first 8 bytes, so a mismatch report can tell whether a page
 * holds stale or another page's data.
 *
 * Kinds and their size under lz4 (page by page, as the kernel compresses):
 *   incompressible  random bytes                               ~1:1
 *   2to1            per 512-byte chunk 248 random bytes, then  ~2:1
 *                   a filler byte repeated
 *   4to1            per 512-byte chunk 120 random bytes, then  ~4:1
 *                   a filler byte repeated
 *   same            one 8-byte word repeated over the page,    same-filled
 *                   different for every page
 *   zero            zero bytes                                 same-filled
 *
 * A mismatch is never lost: once one is seen, the program exits with 1
 * however it ends, even by SIGTERM, SIGINT, SIGBUS or SIGSEGV (a handler
 * checks a sticky flag and _exit()s with 1 instead of dying by the signal).
 * Without one, those signals end it as before (exit status 128 + signal).
 *
 * Build: gcc -O2 -static (tests/Makefile). Run "pattern --help".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

typedef uint64_t u64;
typedef uint16_t u16;

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define fallthrough	__attribute__((__fallthrough__))

#define EXIT_MISMATCH	1
#define EXIT_ERROR	2

#define CHUNK_WORDS	64	/* 512-byte chunks in the compressible kinds */
#define MAX_REPORTS	8	/* mismatching pages reported in detail */

enum kind {
	KIND_INCOMPRESSIBLE,
	KIND_2TO1,
	KIND_4TO1,
	KIND_SAME,
	KIND_ZERO,
};

/*
 * Random words per 64-word chunk. lz4 stores the random part as literals
 * and the filler run as one match, ~5 bytes of overhead per chunk:
 * 2to1 8 * (31 * 8 + 5) = 2024 bytes per page, 4to1 8 * (15 * 8 + 5) = 1000.
 */
static const struct {
	const char *name;
	unsigned int random_words;
} kinds[] = {
	[KIND_INCOMPRESSIBLE]	= { "incompressible", CHUNK_WORDS },
	[KIND_2TO1]		= { "2to1", 31 },
	[KIND_4TO1]		= { "4to1", 15 },
	[KIND_SAME]		= { "same", 0 },
	[KIND_ZERO]		= { "zero", 0 },
};

struct config {
	u64 size;
	enum kind kind;
	u64 seed;
	const char *file;
	const char *ready;
	bool fill;
	bool sync;
	long hold;		/* seconds, 0: until a signal, -1: no hold */
	unsigned int passes;
	unsigned int rewrite_pct;
	int thp;		/* -1: leave as is, 0: MADV_NOHUGEPAGE, 1: MADV_HUGEPAGE */
	bool quiet;
};

struct area {
	unsigned char *mem;
	size_t npages;
	size_t page_size;
	size_t page_words;
	u16 *version;	/* per page, bumped by --rewrite */
	u64 *scratch;	/* one page, for mismatch reports */
	u64 seed_mask;
};

static void die(const char *fmt, ...);

/* Set once any page mismatched: checked by the fatal-signal handler. */
static volatile sig_atomic_t mismatch_seen;

/*
 * SIGTERM, SIGINT, SIGBUS, SIGSEGV: after a mismatch, exit 1 whatever the
 * signal; before one, die by the signal as without a handler (re-raised
 * with the default action; a fault re-faults once the handler returns).
 */
static void fatal_signal(int sig)
{
	static const char msg[] =
		"pattern: ended by a signal after a mismatch: exit 1\n";

	if (mismatch_seen) {
		/* Nothing better to do if the message cannot be written. */
		(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
		_exit(EXIT_MISMATCH);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_fatal_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGBUS, SIGSEGV };
	struct sigaction sa = { .sa_handler = fatal_signal };
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		if (sigaction(sigs[i], &sa, NULL))
			die("sigaction: %s", strerror(errno));
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("pattern: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_ERROR);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* splitmix64's finalizer: a good 64-bit mixing function. */
static u64 mix64(u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* xorshift64*: cheap, and nothing lz4 can compress. */
static inline u64 next_random(u64 *state)
{
	u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* The first word of a page: its index and version, masked by the seed. */
static inline u64 page_stamp(const struct area *a, size_t idx, u16 version)
{
	return ((u64)idx << 16 | version) ^ a->seed_mask;
}

/*
 * Generate the content of page idx at the given version, word by word.
 * With check set, compare against the memory instead of writing it and
 * return the index of the first mismatching word, or page_words if none.
 */
static size_t page_words(const struct config *c, const struct area *a,
			 size_t idx, u16 version, u64 *p, bool check)
{
	unsigned int nrandom = kinds[c->kind].random_words;
	u64 stamp = page_stamp(a, idx, version);
	u64 state, filler, w;
	size_t i;

	if (c->kind == KIND_ZERO || c->kind == KIND_SAME) {
		w = c->kind == KIND_ZERO ? 0 : stamp;
		for (i = 0; i < a->page_words; i++) {
			if (!check)
				p[i] = w;
			else if (p[i] != w)
				return i;
		}
		return a->page_words;
	}

	state = mix64(stamp) | 1;
	filler = (mix64(~stamp) & 0xff) * 0x0101010101010101ULL;
	for (i = 0; i < a->page_words; i++) {
		if (i == 0)
			w = stamp;
		else if (i % CHUNK_WORDS < nrandom)
			w = next_random(&state);
		else
			w = filler;
		if (!check)
			p[i] = w;
		else if (p[i] != w)
			return i;
	}
	return a->page_words;
}

static u64 *page_ptr(const struct area *a, size_t idx)
{
	return (u64 *)(a->mem + idx * a->page_size);
}

static void fill_page(const struct config *c, const struct area *a,
		      size_t idx)
{
	page_words(c, a, idx, a->version[idx], page_ptr(a, idx), false);
}

/* Describe what a mismatching page holds instead of its own content. */
static void diagnose(const struct config *c, const struct area *a,
		     size_t idx, char *buf, size_t len)
{
	u64 *p = page_ptr(a, idx);
	u64 decoded = p[0] ^ a->seed_mask;
	size_t other = decoded >> 16;
	u16 version = decoded & 0xffff;
	size_t i;

	for (i = 0; i < a->page_words && !p[i]; i++)
		;
	if (i == a->page_words) {
		snprintf(buf, len, "the page reads as all zeroes");
		return;
	}
	if (c->kind == KIND_ZERO) {
		snprintf(buf, len, "unrecognised content");
		return;
	}
	if (other < a->npages &&
	    page_words(c, a, other, version, p, true) == a->page_words) {
		if (other == idx)
			snprintf(buf, len,
				 "it holds its own version %u (current %u): stale data",
				 version, a->version[idx]);
		else
			snprintf(buf, len,
				 "it holds page %zu's data (version %u)",
				 other, version);
		return;
	}
	snprintf(buf, len, "unrecognised content");
}

/*
 * Verify every page; return the number of mismatching pages. The first
 * MAX_REPORTS of them are reported with the expected and the actual word.
 */
static size_t verify(const struct config *c, const struct area *a,
		     unsigned int pass, size_t *reported)
{
	size_t idx, word, byte, bad = 0;
	u64 expect, got;
	char why[160];

	for (idx = 0; idx < a->npages; idx++) {
		u64 *p = page_ptr(a, idx);

		word = page_words(c, a, idx, a->version[idx], p, true);
		if (word == a->page_words)
			continue;
		mismatch_seen = 1;
		bad++;
		if (*reported >= MAX_REPORTS)
			continue;
		(*reported)++;
		got = p[word];
		page_words(c, a, idx, a->version[idx], a->scratch, false);
		expect = a->scratch[word];
		for (byte = 0; byte < 7; byte++)
			if (((got ^ expect) >> (8 * byte)) & 0xff)
				break;
		diagnose(c, a, idx, why, sizeof(why));
		printf("pattern: MISMATCH pass %u: page %zu offset %zu ",
		       pass, idx, word * 8 + byte);
		printf("(area offset 0x%zx): expected %016llx got %016llx; %s\n",
		       idx * a->page_size + word * 8 + byte,
		       (unsigned long long)expect, (unsigned long long)got, why);
	}
	return bad;
}

/* Give a random PCT% of the pages a new version and write them. */
static size_t rewrite(const struct config *c, struct area *a,
		      unsigned int pass)
{
	u64 state = mix64(c->seed ^ mix64(pass + 0x5eed)) | 1;
	u64 threshold = (u64)c->rewrite_pct * (UINT64_MAX / 100);
	size_t idx, n = 0;

	for (idx = 0; idx < a->npages; idx++) {
		if (next_random(&state) >= threshold)
			continue;
		a->version[idx]++;
		fill_page(c, a, idx);
		n++;
	}
	return n;
}

/*
 * Wait for SIGUSR1 (continue), SIGTERM or SIGINT (stop), or the timeout.
 * Returns false when the program should stop.
 */
static bool hold(const struct config *c)
{
	struct timespec ts = { .tv_sec = c->hold };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	for (;;) {
		sig = sigtimedwait(&set, NULL, c->hold ? &ts : NULL);
		if (sig == SIGUSR1)
			return true;
		if (sig == SIGTERM || sig == SIGINT)
			return false;
		if (sig < 0 && errno == EAGAIN)
			return true;
		if (sig < 0 && errno != EINTR)
			die("sigtimedwait: %s", strerror(errno));
	}
}

static void map_area(const struct config *c, struct area *a)
{
	u64 size = c->size;
	void *mem;
	int fd = -1;

	a->page_size = sysconf(_SC_PAGESIZE);
	a->page_words = a->page_size / 8;
	if (c->file) {
		struct stat st;

		fd = open(c->file, O_RDWR | (c->fill ? O_CREAT : 0), 0600);
		if (fd < 0 || fstat(fd, &st))
			die("%s: %s", c->file, strerror(errno));
		if (S_ISBLK(st.st_mode)) {
			u64 dev_size;

			if (ioctl(fd, BLKGETSIZE64, &dev_size))
				die("%s: BLKGETSIZE64: %s", c->file,
				    strerror(errno));
			if (!size || size > dev_size)
				size = dev_size;
		} else {
			if (!size)
				size = st.st_size;
			if ((u64)st.st_size < size && ftruncate(fd, size))
				die("%s: ftruncate: %s", c->file,
				    strerror(errno));
		}
	}
	a->npages = (size + a->page_size - 1) / a->page_size;
	if (!a->npages)
		die("nothing to do: size 0");
	if (fd >= 0)
		mem = mmap(NULL, a->npages * a->page_size,
			   PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	else
		mem = mmap(NULL, a->npages * a->page_size,
			   PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap %zu pages: %s", a->npages, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (c->thp >= 0 &&
	    madvise(mem, a->npages * a->page_size,
		    c->thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		die("madvise: %s", strerror(errno));
	a->mem = mem;
	a->version = calloc(a->npages, sizeof(*a->version));
	a->scratch = malloc(a->page_size);
	if (!a->version || !a->scratch)
		die("out of memory");
	a->seed_mask = mix64(c->seed ^ 0x7061747465726eULL);
}

static u64 parse_size(const char *s)
{
	char *end;
	u64 v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		die("bad size '%s'", s);
	switch (*end) {
	case 'T': case 't':
		v <<= 10;
		fallthrough;
	case 'G': case 'g':
		v <<= 10;
		fallthrough;
	case 'M': case 'm':
		v <<= 10;
		fallthrough;
	case 'K': case 'k':
		v <<= 10;
		end++;
		break;
	}
	if (*end)
		die("bad size '%s'", s);
	return v;
}

static unsigned long parse_uint(const char *s, const char *what,
				unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		die("bad %s '%s'", what, s);
	return v;
}

static const char usage_text[] =
"usage: pattern --size SIZE [--kind KIND] [--seed N] [OPTIONS]\n"
"\n"
"Fill SIZE bytes (suffix K, M, G) of anonymous memory with a reproducible\n"
"pattern; optionally hold it, rewrite part of it and verify all of it.\n"
"\n"
"  -s, --size SIZE     bytes to fill, rounded up to pages (with --file:\n"
"                      default the file's or device's size)\n"
"  -k, --kind KIND     incompressible, 2to1, 4to1, same, zero (default 2to1)\n"
"  -S, --seed N        seed of the pattern (default 1)\n"
"  -f, --file PATH     map PATH shared instead: a regular file (created or\n"
"                      extended to SIZE) or a block device\n"
"  -n, --no-fill       do not fill; verify what --file PATH already holds\n"
"      --sync          msync() the --file mapping after filling\n"
"  -t, --thp on|off    madvise() the area MADV_HUGEPAGE or MADV_NOHUGEPAGE\n"
"  -r, --ready PATH    create PATH once the area is filled\n"
"  -H, --hold SECS     then wait SECS seconds, 0: until a signal. SIGUSR1\n"
"                      ends the wait and goes on; SIGTERM or SIGINT end the\n"
"                      program (exit 0, no verification)\n"
"  -v, --verify        then re-read and check every byte\n"
"  -p, --passes N      verify N times (implies --verify)\n"
"  -w, --rewrite PCT   before each verify pass, give PCT% of the pages,\n"
"                      picked at random, a new version of their content\n"
"  -q, --quiet         print only mismatches and errors\n"
"  -h, --help          this help\n"
"\n"
"Prints one summary line. Exit status: 0 success, 1 mismatch (the first\n"
"bad pages are reported with their index and offset), 2 error. Once a\n"
"mismatch is seen, the exit status is 1 however the program ends, by\n"
"SIGTERM, SIGINT, SIGBUS or SIGSEGV too; without one, those signals end\n"
"it as they would (128 + signal).\n";

static void usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	exit(status);
}

static void parse_args(int argc, char **argv, struct config *c)
{
	static const struct option opts[] = {
		{ "size",	required_argument,	NULL, 's' },
		{ "kind",	required_argument,	NULL, 'k' },
		{ "seed",	required_argument,	NULL, 'S' },
		{ "file",	required_argument,	NULL, 'f' },
		{ "no-fill",	no_argument,		NULL, 'n' },
		{ "sync",	no_argument,		NULL, 'Y' },
		{ "thp",	required_argument,	NULL, 't' },
		{ "ready",	required_argument,	NULL, 'r' },
		{ "hold",	required_argument,	NULL, 'H' },
		{ "verify",	no_argument,		NULL, 'v' },
		{ "passes",	required_argument,	NULL, 'p' },
		{ "rewrite",	required_argument,	NULL, 'w' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "help",	no_argument,		NULL, 'h' },
		{ }
	};
	size_t i;
	int opt;

	while ((opt = getopt_long(argc, argv, "s:k:S:f:nt:r:H:vp:w:qh",
				  opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			c->size = parse_size(optarg);
			break;
		case 'k':
			for (i = 0; i < ARRAY_SIZE(kinds); i++)
				if (!strcmp(optarg, kinds[i].name))
					break;
			if (i == ARRAY_SIZE(kinds))
				die("unknown kind '%s'", optarg);
			c->kind = i;
			break;
		case 'S':
			c->seed = parse_uint(optarg, "seed", ULONG_MAX);
			break;
		case 'f':
			c->file = optarg;
			break;
		case 'n':
			c->fill = false;
			break;
		case 'Y':
			c->sync = true;
			break;
		case 't':
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				die("--thp takes on or off");
			c->thp = !strcmp(optarg, "on");
			break;
		case 'r':
			c->ready = optarg;
			break;
		case 'H':
			c->hold = parse_uint(optarg, "hold time", 1UL << 30);
			break;
		case 'v':
			if (!c->passes)
				c->passes = 1;
			break;
		case 'p':
			c->passes = parse_uint(optarg, "pass count", 1 << 20);
			break;
		case 'w':
			c->rewrite_pct = parse_uint(optarg, "percentage", 100);
			break;
		case 'q':
			c->quiet = true;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(EXIT_ERROR);
		}
	}
	if (optind != argc)
		usage(EXIT_ERROR);
	if (!c->size && !c->file)
		die("--size is required");
	if (!c->fill && !c->file)
		die("--no-fill needs --file");
	if (!c->fill && c->rewrite_pct)
		die("--no-fill and --rewrite exclude each other");
}

int main(int argc, char **argv)
{
	struct config c = {
		.kind = KIND_2TO1,
		.seed = 1,
		.fill = true,
		.hold = -1,
		.thp = -1,
	};
	double t0, t_fill = 0, t_hold = 0, t_verify = 0;
	size_t idx, bad = 0, reported = 0, rewritten = 0;
	bool go_on = true;
	struct area a;
	sigset_t set;
	unsigned int pass;

	parse_args(argc, argv, &c);
	setvbuf(stdout, NULL, _IOLBF, 0);
	catch_fatal_signals();

	/* SIGUSR1 only ever ends a hold; keep it pending until then. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);

	map_area(&c, &a);

	if (c.fill) {
		t0 = now();
		for (idx = 0; idx < a.npages; idx++)
			fill_page(&c, &a, idx);
		if (c.sync && c.file &&
		    msync(a.mem, a.npages * a.page_size, MS_SYNC))
			die("msync: %s", strerror(errno));
		t_fill = now() - t0;
	}

	if (c.hold >= 0) {
		/* No SIGTERM between the ready file and the wait. */
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
	if (c.ready) {
		int fd = open(c.ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			die("%s: %s", c.ready, strerror(errno));
		dprintf(fd, "%d\n", getpid());
		close(fd);
	}
	if (c.hold >= 0) {
		t0 = now();
		go_on = hold(&c);
		t_hold = now() - t0;
		sigdelset(&set, SIGUSR1);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
	}

	for (pass = 1; go_on && pass <= c.passes; pass++) {
		t0 = now();
		if (c.rewrite_pct)
			rewritten += rewrite(&c, &a, pass);
		bad += verify(&c, &a, pass, &reported);
		t_verify += now() - t0;
	}

	if (!c.quiet || bad) {
		printf("pattern: kind=%s seed=%llu pages=%zu mib=%zu ",
		       kinds[c.kind].name, (unsigned long long)c.seed,
		       a.npages, a.npages * a.page_size >> 20);
		printf("fill=%.2fs hold=%.2fs passes=%u rewritten=%zu ",
		       t_fill, t_hold, go_on ? c.passes : 0, rewritten);
		printf("verify=%.2fs mismatches=%zu%s\n", t_verify, bad,
		       go_on ? "" : " (stopped during hold)");
	}
	return bad ? EXIT_MISMATCH : 0;
}
