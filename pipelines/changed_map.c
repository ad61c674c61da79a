/* From changed paths to gates: which gates of a modelgate.json read a file
 * that changed. Paths in the config are relative to its folder, --model and
 * --baseline to the cwd; both are made absolute and lexically normalised,
 * then compared with the changed paths under the top of the work tree (a
 * folder input matches everything below it). No git here: see changed.c. */
#include "changed.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Removes "." and "x/.." components and doubled slashes of an absolute
 * path, in place. */
static void normalize(char *p)
{
	char *out = p, *in = p;
	while (*in) {
		while (*in == '/')
			in++;
		char *end = in + strcspn(in, "/");
		size_t n = (size_t)(end - in);
		if (n == 0)
			break;
		if (n == 1 && in[0] == '.') {
			/* skip */
		} else if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (out > p && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, in, n);
			out += n;
		}
		in = end;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}

/* The path of `name` (relative to dir) relative to the work tree top, or
 * NULL when it is outside the work tree (a store reference, say). */
static char *in_tree(const char *name, const char *dir, const char *workdir)
{
	char base[PATH_MAX], full[2 * PATH_MAX + 2];
	if (!name || !*name)
		return NULL;
	if (name[0] == '/')
		snprintf(full, sizeof(full), "%s", name);
	else if (realpath(dir, base))
		snprintf(full, sizeof(full), "%s/%s", base, name);
	else
		return NULL;
	normalize(full);
	size_t n = strlen(workdir);
	if (strncmp(full, workdir, n) != 0)
		return NULL;
	return strdup(full + n);
}

/* 1 when a changed path is input (or under the folder input). */
static int touched(const mg_changed *ch, const char *input)
{
	if (!input)
		return 0;
	size_t n = strlen(input);
	for (size_t i = 0; i < ch->npaths; i++) {
		const char *p = ch->paths[i];
		if (!strncmp(p, input, n) && (p[n] == '\0' || p[n] == '/'))
			return 1;
	}
	return 0;
}

static int check(const mg_changed *ch, const char *name, const char *dir)
{
	char *rel = in_tree(name, dir, ch->workdir);
	int hit = touched(ch, rel);
	free(rel);
	return hit;
}

int mg_changed_gates(int *selected, const mg_config *cfg, const char *model, const char *baseline,
		     const mg_changed *ch, mg_error *err)
{
	(void)err;
	const char *dir = cfg->dir ? cfg->dir : ".";
	int all = 0, data = 0;
	char cfgdir[PATH_MAX + 1];
	/* the config's own path names a file, not a folder: resolve its folder */
	const char *slash = strrchr(cfg->path, '/');
	const char *file = slash ? slash + 1 : cfg->path;
	snprintf(cfgdir, sizeof(cfgdir), "%.*s", slash ? (int)(slash - cfg->path) + (slash == cfg->path) : 1,
		 slash ? cfg->path : ".");
	all = check(ch, file, cfgdir) ||
	      (model ? check(ch, model, ".") : check(ch, cfg->model, dir)) ||
	      (baseline ? check(ch, baseline, ".") : check(ch, cfg->baseline, dir));
	data = check(ch, cfg->dataset_inputs, dir) || check(ch, cfg->dataset_labels, dir);
	int n = 0;
	for (size_t i = 0; i < cfg->ngates; i++) {
		const mg_gate_config *g = &cfg->gates[i];
		int hit = all;
		if (!hit && data && (g->kind == MG_KIND_ACCURACY || g->kind == MG_KIND_FIDELITY))
			hit = 1;
		if (!hit && g->kind == MG_KIND_FIDELITY && g->reference)
			hit = check(ch, g->reference, dir);
		selected[i] = hit;
		n += hit;
	}
	return n;
}
