/* The dataset of a gate run: read from a folder or .npy files, or a
 * dataset reference holding them under the names the config gives (x.npy
 * and y.npy by default), with class names from the config or a
 * labels.txt; then checked against the model before anything runs, its
 * inputs converted where runners/inputs.h allows. Errors speak of the
 * reference and the file names, never of where the store keeps them. */
#include "runners/inputs.h"
#include "validator_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* err's message with every occurrence of path (a folder the store or a
 * download gave) replaced by spec, the user's name for it. */
static void in_user_terms(mg_error *err, const char *path, const char *spec)
{
	size_t n = strlen(path);
	if (!err || !n || !strcmp(path, spec))
		return;
	char out[sizeof(err->msg)];
	size_t used = 0;
	for (const char *m = err->msg, *hit; used < sizeof(out) - 1; m = hit + n) {
		hit = strstr(m, path);
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%.*s%s", hit ? (int)(hit - m) : (int)strlen(m),
					 m, hit ? spec : "");
		if (!hit)
			break;
	}
	snprintf(err->msg, sizeof(err->msg), "%s", out);
}

/* "labels.txt" beside the labels (in a dataset reference or folder, or
 * next to its labels file): the class names, one a line, blank lines at
 * the end ignored; none when there is no such file. */
static int read_class_names(run_ctx *c, const char *dir, mg_error *err)
{
	char *p = mg_path_join(dir, "labels.txt", err);
	struct stat st;
	if (!p || stat(p, &st) < 0) {
		free(p);
		return p ? 0 : MG_ENOMEM;
	}
	mg_buf b = MG_BUF_INIT;
	int rc = mg_file_read(&b, p, 16u << 20, err);
	free(p);
	size_t lines = 1;
	for (size_t i = 0; !rc && i < b.len; i++)
		lines += b.data[i] == '\n';
	if (!rc && !(c->classes = calloc(lines, sizeof(*c->classes))))
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	for (char *line = b.data, *e; !rc && line && *line; line = e ? e + 1 : NULL) {
		e = strchr(line, '\n');
		size_t len = e ? (size_t)(e - line) : strlen(line);
		if (len && line[len - 1] == '\r')
			len--;
		if (!(c->classes[c->nclasses] = strndup(line, len)))
			rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		else
			c->nclasses++;
	}
	while (!rc && c->nclasses && !c->classes[c->nclasses - 1][0])
		free(c->classes[--c->nclasses]);
	c->own_classes = 1;
	mg_buf_free(&b);
	return rc;
}

/* The dataset's inputs: one .npy for a one-input model, or a folder of
 * NAME.npy / input_N.pb files; a dataset reference or folder holds them
 * as "inputs" (x.npy) and "labels" (y.npy) name them. Errors speak of the
 * reference and the file names, never of where the store keeps them. */
int mg_gate__load_dataset(run_ctx *c, mg_error *err)
{
	const mg_config *cfg = c->cfg;
	const char *spec = cfg->dataset_ref ? cfg->dataset_ref : cfg->dataset_inputs;
	if (!spec)
		return 0;
	int rc = mg_resolve(&c->dataset, spec, cfg->dir, 0, c->opts->source, err);
	if (rc)
		return rc;
	char *inputs = NULL, *labels = NULL, *labels_dir = NULL;
	struct stat st;
	if (cfg->dataset_ref) { /* x.npy and y.npy, or input_N.pb, or as named */
		const char *xn = cfg->dataset_inputs ? cfg->dataset_inputs : "x.npy";
		const char *yn = cfg->dataset_labels ? cfg->dataset_labels : "y.npy";
		char *x = mg_path_join(c->dataset.path, xn, err);
		if (x && stat(x, &st) < 0 && cfg->dataset_inputs) {
			free(x);
			return mg_error_set(err, MG_EINVAL, "dataset '%s' has no '%s' (its \"inputs\")", spec, xn);
		}
		inputs = x && stat(x, &st) == 0 ? x : (free(x), strdup(c->dataset.path));
		labels = mg_path_join(c->dataset.path, yn, err);
		if (labels && stat(labels, &st) < 0) {
			free(labels);
			labels = NULL;
			if (cfg->dataset_labels) {
				free(inputs);
				return mg_error_set(err, MG_EINVAL, "dataset '%s' has no '%s' (its \"labels\")", spec, yn);
			}
		}
		c->labels_name = labels ? mg_path_join(spec, yn, NULL) : NULL;
		labels_dir = strdup(c->dataset.path);
	} else {
		inputs = strdup(c->dataset.path);
		if (cfg->dataset_labels) {
			mg_resolved l;
			if ((rc = mg_resolve(&l, cfg->dataset_labels, cfg->dir, 0, c->opts->source, err)))
				goto done;
			labels = strdup(l.path);
			mg_resolved_clear(&l);
			const char *slash = labels ? strrchr(labels, '/') : NULL;
			labels_dir = slash ? strndup(labels, (size_t)(slash - labels)) : strdup(".");
			c->labels_name = strdup(cfg->dataset_labels);
		}
	}
	if (!inputs || (labels && (!c->labels_name || !labels_dir))) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	if (stat(inputs, &st) == 0 && S_ISDIR(st.st_mode)) {
		mg_tensor_format fmt;
		rc = mg_inputs_read_dir(&c->inputs, &fmt, c->model_info->inputs, c->model_info->ninputs,
					inputs, "input", err);
		if (rc && cfg->dataset_ref) {
			in_user_terms(err, c->dataset.path, spec);
			if (rc == MG_EINVAL || rc == MG_ENOTFOUND) {
				char why[sizeof(err->msg)];
				snprintf(why, sizeof(why), "%s", err->msg);
				rc = mg_error_set(err, MG_EINVAL, "dataset '%s' has no 'x.npy' (give the inputs' file "
						  "name in \"inputs\"), and its files are not the model's inputs: %.700s",
						  spec, why);
			}
		}
		if (!rc)
			c->ninputs = c->model_info->ninputs;
	} else {
		c->inputs = calloc(1, sizeof(*c->inputs));
		rc = c->inputs ? mg_npy_read(&c->inputs[0], inputs, err) : MG_ENOMEM;
		if (!rc) {
			c->ninputs = 1;
			if (c->model_info->ninputs)
				rc = mg_tensor_set_name(c->inputs[0], c->model_info->inputs[0].name, err);
		}
	}
	if (!rc && labels)
		rc = mg_npy_read(&c->labels, labels, err);
	if (rc && cfg->dataset_ref)
		in_user_terms(err, c->dataset.path, spec);
	if (!rc && labels && !cfg->classes)
		rc = read_class_names(c, labels_dir, err);
done:
	free(inputs);
	free(labels);
	free(labels_dir);
	return rc;
}

/* A dataset that cannot be what the model takes is bad input (exit 2),
 * found before anything runs: inputs of another type that do not convert
 * exactly (runners/inputs.h: mg_input_check, and "cast") or of another
 * shape, inputs of different row counts, labels that are not one per row.
 * (Labels outside the classes are found by the accuracy gate.) */
int mg_gate__check_dataset(run_ctx *c, mg_error *err)
{
	const mg_model_info *mi = c->model_info;
	const char *ds = c->dataset.spec;
	int64_t rows = -1;
	char where[300];
	snprintf(where, sizeof(where), "dataset '%.280s'", ds);
	mg_buf said = MG_BUF_INIT;
	int rc = 0;
	for (size_t i = 0; !rc && i < c->ninputs; i++) {
		const mg_tensor *t = c->inputs[i];
		if (t->rank == 0 || t->dims[0] == 0)
			rc = mg_error_set(err, MG_EINVAL, "dataset '%s': input '%s' has no rows%s", ds, t->name,
					  t->rank ? "" : " (a scalar)");
		else if (rows >= 0 && t->dims[0] != rows)
			rc = mg_error_set(err, MG_EINVAL, "dataset '%s': input '%s' has %lld rows, input '%s' %lld",
					  ds, t->name, (long long)t->dims[0], c->inputs[0]->name, (long long)rows);
		/* reals for a quantized input are quantized (after this check);
		 * rows of a fixed batch go in runs (run_outputs) */
		else if (i < mi->ninputs)
			rc = mg_input_check(&c->inputs[i], &mi->inputs[i], c->cfg->dataset_cast || c->opts->cast, 1,
					    where, &said, err);
		rows = c->inputs[i]->dims[0]; /* a conversion keeps the shape */
	}
	for (const char *p = said.data, *e; !rc && p && (e = strchr(p, '\n')); p = e + 1)
		mg_gate__say(c, "dataset '%s': %.*s", ds, (int)(e - p), p);
	mg_buf_free(&said);
	const mg_tensor *l = c->labels;
	if (!rc && l && rows >= 0 && (l->rank == 0 || l->dims[0] != rows))
		rc = mg_error_set(err, MG_EINVAL, "dataset labels '%s': %lld labels for %lld rows of inputs",
				  c->labels_name, l->rank ? (long long)l->dims[0] : 1LL, (long long)rows);
	return rc;
}
