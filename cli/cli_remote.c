/* What the commands share for registries: connecting with the command's
 * TLS options, and showing progress on stderr: one line per transfer, or
 * per file hashed into the store, saying what it does ("uploading
 * model.onnx: 1.2 MiB / 10 MiB", "hashing ..."),
 * rewritten in place on a terminal (bytes, rate, ETA); plain lines every
 * few seconds otherwise (CI logs), and one closing line per file hashed or
 * moved, once its bytes are checked ("uploaded model.onnx: 10 MiB in 1.2s
 * (8.3 MiB/s)"), a quick one too; a file the registry or the digest cache
 * has already moves nothing and says nothing; nothing at all with -q. Two settings that tests use
 * to reach chunked uploads and paged lists with little data come from the
 * environment: MODELGATE_CHUNK_SIZE (bytes; larger blobs are uploaded in
 * chunks of this size) and MODELGATE_PAGE_SIZE (entries asked for per page
 * of a tag or repository list). */
#include "cli.h"
#include "registry/remote.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SHOWN 32

typedef struct shown {
	const char *what; /* borrowed from the library while the transfer runs */
	int64_t start;
	int64_t last;
	int printed;
} shown;

/* The progress display of this process: one command, one display. */
static struct {
	int tty;
	int64_t interval;
	shown t[MAX_SHOWN];
	size_t n;
} display;

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static shown *find_shown(const char *what, int64_t now)
{
	for (size_t i = 0; i < display.n; i++)
		if (display.t[i].what == what)
			return &display.t[i];
	shown *s = &display.t[display.n < MAX_SHOWN ? display.n++ : MAX_SHOWN - 1];
	memset(s, 0, sizeof(*s));
	s->what = what;
	s->start = s->last = now;
	return s;
}

static void progress_cb(void *ctx, int kind, const char *what, uint64_t done, uint64_t total,
			int finished)
{
	static const char *const doing[] = {"downloading", "uploading", "hashing"};
	static const char *const done_[] = {"downloaded", "uploaded", "hashed"};
	(void)ctx;
	int64_t now = ms_now();
	shown *s = find_shown(what, now);
	if (!finished && now - s->last < display.interval)
		return;
	s->last = now;
	s->printed = 1;
	double secs = (double)(now - s->start) / 1000.0;
	double rate = (double)done / (secs > 0.001 ? secs : 0.001); /* a quick file: at least 1 ms */
	char d[32], t[32], r[32], eta[32] = "";
	mg_format_size(d, sizeof(d), done);
	mg_format_size(t, sizeof(t), total);
	mg_format_size(r, sizeof(r), (uint64_t)rate);
	if (!finished && total > done && rate > 0)
		snprintf(eta, sizeof(eta), "  ETA %.0fs", (double)(total - done) / rate);
	const char *name = cli_text(strlen(what) > 40 ? what + strlen(what) - 40 : what);
	kind = kind >= 0 && kind <= MG_PROGRESS_HASH ? kind : MG_PROGRESS_DOWNLOAD;
	if (finished)
		fprintf(stderr, "%s%s %s: %s in %.1fs (%s/s)%s\n", display.tty ? "\r" : "", done_[kind], name,
			d, secs, r, display.tty ? "\033[K" : "");
	else
		fprintf(stderr, "%s%s %s: %s / %s  %s/s%s%s", display.tty ? "\r" : "", doing[kind], name, d,
			total ? t : "?", r, eta, display.tty ? "\033[K" : "\n");
	fflush(stderr);
	if (finished)
		s->what = NULL;
}

/* The progress function of this command: progress_cb, set up for stderr
 * (a terminal or a log), or NULL with -q. */
static mg_progress_fn progress_of(const mg_cli *cli)
{
	if (cli->quiet)
		return NULL;
	const char *iv = getenv("MODELGATE_PROGRESS_INTERVAL");
	display.tty = isatty(STDERR_FILENO);
	display.interval = iv && *iv ? atol(iv) : display.tty ? 200 : 5000;
	return progress_cb;
}

/* A positive whole number from the environment variable name, at most
 * max; *out is unchanged when it is unset or empty. */
static int env_count(const char *name, uint64_t max, uint64_t *out, mg_error *err)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return 0;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || *s == '-' || v == 0 || v > max)
		return mg_error_set(err, MG_EINVAL, "%s='%s' is not a whole number from 1 to %llu", name,
				    s, (unsigned long long)max);
	*out = v;
	return 0;
}

int cli_remote_login(mg_cli *cli, const char *registry, const char *user, const char *password,
		     mg_remote **out, mg_error *err)
{
	mg_remote_opts o = MG_REMOTE_OPTS_INIT;
	o.insecure = cli->insecure || mg_registry_listed_insecure(registry);
	o.ca_file = cli->ca_file;
	if (o.ca_file && access(o.ca_file, R_OK) < 0)
		return mg_error_sys(err, MG_EINVAL, errno, "cannot read CA file '%s'", o.ca_file);
	uint64_t page = 0;
	int rc = env_count("MODELGATE_CHUNK_SIZE", UINT64_MAX / 2, &o.chunk_size, err);
	if (rc || (rc = env_count("MODELGATE_PAGE_SIZE", 100000, &page, err)))
		return rc;
	o.page_size = (unsigned)page;
	o.progress = progress_of(cli);
	return mg_remote_open(out, registry, &o, user, password, err);
}

int cli_remote_open(mg_cli *cli, const char *registry, mg_remote **out, mg_error *err)
{
	return cli_remote_login(cli, registry, NULL, NULL, out, err);
}

static int open_remote(void *ctx, const char *registry, mg_remote **out, mg_error *err)
{
	return cli_remote_open(ctx, registry, out, err);
}

void cli_repo_opts(mg_cli *cli, mg_repo_opts *o)
{
	*o = (mg_repo_opts)MG_REPO_OPTS_INIT;
	o->open_remote = open_remote;
	o->ctx = cli;
	o->progress = progress_of(cli);
}

void cli_source_opts(mg_cli *cli, mg_source_opts *o)
{
	*o = (mg_source_opts)MG_SOURCE_OPTS_INIT;
	cli_repo_opts(cli, &o->repo);
}

int cli_repo_open(mg_cli *cli, mg_repo *out, const mg_ref *ref, mg_error *err)
{
	mg_repo_opts o;
	cli_repo_opts(cli, &o);
	return mg_repo_open(out, ref, &o, err);
}
