/* Inputs (inputs.h): the one place that decides what a model is fed when
 * nobody gives a dataset, and how a folder of tensors meets the model's
 * names. */
#include "runners/inputs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mg_input_shape_parse(mg_input_shape *s, const char *arg)
{
	const char *eq = strrchr(arg, '=');
	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(s->name))
		return -1;
	snprintf(s->name, sizeof(s->name), "%.*s", (int)(eq - arg), arg);
	s->rank = 0;
	for (const char *p = eq + 1; *p;) {
		char *end;
		errno = 0;
		long long v = strtoll(p, &end, 10);
		if (end == p || v < 0 || errno || s->rank == MG_TENSOR_MAX_RANK)
			return -1;
		s->dims[s->rank++] = v;
		p = end;
		if (*p == 'x' || *p == ',')
			p++;
		else if (*p)
			return -1;
	}
	return 0;
}

static const mg_input_shape *shape_for(const mg_input_shape *shapes, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(shapes[i].name, name))
			return &shapes[i];
	return NULL;
}

/* "'images' (batch=1, 2=1)": the dynamic dimensions of ti, by name or
 * position, that become 1. */
static int describe_defaults(mg_buf *out, const mg_tensor_info *ti, mg_error *err)
{
	int rc = 0, any = 0;
	for (size_t k = 0; !rc && k < ti->rank; k++) {
		if (ti->dims[k] >= 0)
			continue;
		if (!any)
			rc = mg_buf_printf(out, err, "%s'%s' (", out->len ? "; " : "", ti->name);
		if (!rc && ti->dim_names && ti->dim_names[k])
			rc = mg_buf_printf(out, err, "%s%s=1", any ? ", " : "", ti->dim_names[k]);
		else if (!rc)
			rc = mg_buf_printf(out, err, "%sdimension %zu=1", any ? ", " : "", k);
		any = 1;
	}
	if (!rc && any)
		rc = mg_buf_puts(out, ")", err);
	return rc;
}

int mg_inputs_random(mg_tensor ***out, const mg_tensor_info *tis, size_t n,
		     const mg_input_shape *shapes, size_t nshapes, uint64_t seed, const char *model,
		     mg_buf *defaulted, mg_error *err)
{
	for (size_t k = 0; k < nshapes; k++) {
		size_t i = 0;
		while (i < n && strcmp(tis[i].name, shapes[k].name))
			i++;
		if (i == n)
			return mg_error_set(err, MG_EINVAL, "a shape is given for '%s', which is no input of '%s'",
					    shapes[k].name, model);
	}
	mg_tensor **ts = calloc(n ? n : 1, sizeof(*ts));
	if (!ts)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		const mg_tensor_info *ti = &tis[i];
		const mg_input_shape *given = shape_for(shapes, nshapes, ti->name);
		int64_t dims[MG_TENSOR_MAX_RANK];
		size_t rank = 0;
		if (given) {
			rank = given->rank;
			memcpy(dims, given->dims, rank * sizeof(*dims));
		} else if (ti->rank == SIZE_MAX) {
			rc = mg_error_set(err, MG_EINVAL, "input '%s' of '%s' declares no shape: give one "
				"with --shape %s=DIMS", ti->name, model, ti->name);
		} else if (ti->rank > MG_TENSOR_MAX_RANK) {
			rc = mg_error_set(err, MG_EINVAL, "input '%s' of '%s' has %zu dimensions, more than "
				"the %d modelgate handles", ti->name, model, ti->rank, MG_TENSOR_MAX_RANK);
		} else {
			rank = ti->rank;
			for (size_t k = 0; k < rank; k++)
				dims[k] = ti->dims[k] >= 0 ? ti->dims[k] : 1;
			if (defaulted)
				rc = describe_defaults(defaulted, ti, err);
		}
		if (!rc)
			rc = mg_tensor_random(&ts[i], ti->name, mg_dtype_from_name(ti->dtype), dims, rank,
					      &seed, err);
	}
	if (rc) {
		mg_tensors_free(ts, n);
		return rc;
	}
	*out = ts;
	return 0;
}

int mg_inputs_read_dir(mg_tensor ***out, mg_tensor_format *fmt, const mg_tensor_info *tis, size_t n,
		       const char *dir, const char *prefix, mg_error *err)
{
	const char **names = calloc(n ? n : 1, sizeof(*names));
	if (!names)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		names[i] = tis[i].name;
	int rc = mg_tensor_dir_read(out, fmt, dir, prefix, names, n, err);
	free(names);
	for (size_t i = 0; !rc && i < n; i++)
		if ((*out)[i]->dtype == MG_DT_UINT16 && !strcmp(tis[i].dtype, "bfloat16"))
			(*out)[i]->dtype = MG_DT_BFLOAT16;
	return rc;
}
