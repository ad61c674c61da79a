/* Inputs (inputs.h): the one place that decides what a model is fed when
 * nobody gives a dataset, and how a folder of tensors meets the model's
 * names. */
#include "runners/inputs.h"
#include "formats/quant.h"

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

static int check_type(mg_tensor **t, const mg_tensor_info *ti, int cast, const char *where, mg_buf *said,
		      mg_error *err);

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
					      mg_quant_applies(mg_dtype_from_name(ti->dtype), &ti->quant), &seed,
					      err);
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

/* ---- quantized models, and one model's tensors for another ---------- */

int mg_inputs_quantize(mg_tensor **ts, const mg_tensor_info *tis, size_t n, mg_buf *said,
		       mg_error *err)
{
	for (size_t i = 0; i < n; i++) {
		const mg_tensor_info *ti = &tis[i];
		if (!mg_input_quantizes(ts[i], ti))
			continue;
		mg_tensor *q = NULL;
		int rc = mg_quantize(&q, ts[i], mg_dtype_from_name(ti->dtype), &ti->quant, err);
		if (rc)
			return rc;
		mg_tensor_free(ts[i]);
		ts[i] = q;
		if (!said)
			continue;
		if (ti->quant.n == 1)
			rc = mg_buf_printf(said, err, "input '%s' quantized with scale %.9g zero-point %lld\n",
					   ti->name, (double)ti->quant.scales[0],
					   (long long)ti->quant.zero_points[0]);
		else
			rc = mg_buf_printf(said, err, "input '%s' quantized with %zu scales along dimension %d\n",
					   ti->name, ti->quant.n, (int)ti->quant.dimension);
		if (rc)
			return rc;
	}
	return 0;
}

int mg_outputs_dequantize(mg_tensor **ts, const mg_tensor_info *tis, size_t n, mg_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!mg_quant_applies(ts[i]->dtype, &tis[i].quant))
			continue;
		mg_tensor *f = NULL;
		int rc = mg_dequantize(&f, ts[i], &tis[i].quant, err);
		if (rc)
			return rc;
		mg_tensor_free(ts[i]);
		ts[i] = f;
	}
	return 0;
}

int mg_tensors_match(size_t *idx, const char **how, const char *const *from, size_t nfrom,
		     const char *const *to, size_t nto, const char *what, mg_error *err)
{
	size_t j = 0;
	for (; j < nto; j++) {
		size_t i = 0;
		while (i < nfrom && strcmp(from[i], to[j]))
			i++;
		if (i == nfrom)
			break;
		idx[j] = i;
	}
	*how = "name";
	if (j == nto)
		return 0;
	if (nfrom != nto)
		return mg_error_set(err, MG_EINVAL, "the %s do not meet: '%s' is not among the other "
				    "model's, and %zu against %zu cannot pair by order", what, to[j], nto, nfrom);
	for (j = 0; j < nto; j++)
		idx[j] = j;
	*how = "order";
	return 0;
}

int mg_tensor_relayout(mg_tensor **out, const mg_tensor *t, const char *from, const char *to,
		       mg_error *err)
{
	static const size_t to_nchw[] = {0, 3, 1, 2}, to_nhwc[] = {0, 2, 3, 1}, same[] = {0, 1, 2, 3};
	if (t->rank != 4)
		return mg_error_set(err, MG_EINVAL, "tensor '%s' has %zu dimensions, and a layout (%s, %s) "
				    "is for 4", t->name, t->rank, from, to);
	const size_t *perm = !strcmp(from, to) ? same : !strcmp(to, "nchw") ? to_nchw : to_nhwc;
	return mg_tensor_permute(out, t, perm, err);
}

size_t mg_input_batch(const mg_tensor_info *ti)
{
	if (ti->rank == SIZE_MAX || !ti->rank || ti->dims[0] <= 0)
		return 0;
	return (size_t)ti->dims[0];
}

int mg_input_fits(const mg_tensor *t, const mg_tensor_info *ti)
{
	if (ti->rank == SIZE_MAX)
		return 1;
	size_t b = mg_input_batch(ti);
	int ok = ti->rank == t->rank;
	for (size_t k = 0; ok && k < t->rank; k++)
		ok = ti->dims[k] < 0 || ti->dims[k] == t->dims[k] ||
		     (k == 0 && b && t->dims[0] > 0);
	return ok;
}

int mg_input_quantizes(const mg_tensor *t, const mg_tensor_info *ti)
{
	mg_dtype want = mg_dtype_from_name(ti->dtype);
	return t->dtype == MG_DT_FLOAT32 && (want == MG_DT_INT8 || want == MG_DT_UINT8) &&
	       mg_quant_applies(want, &ti->quant);
}

const char *mg_layout_other(const char *layout)
{
	return !layout ? NULL : strcmp(layout, "nhwc") ? "nhwc" : "nchw";
}

int mg_inputs_for(mg_tensor ***out, const char **how, mg_tensor *const *ts,
		  const mg_tensor_info *ts_info, size_t nts, const mg_tensor_info *tis, size_t n,
		  const char *from, const char *to, const char *model, mg_error *err)
{
	const char **names = calloc(nts + n + 1, sizeof(*names));
	size_t *idx = calloc(n + 1, sizeof(*idx));
	char where[300];
	snprintf(where, sizeof(where), "'%.280s'", model);
	mg_tensor **o = calloc(n + 1, sizeof(*o));
	int rc = names && idx && o ? 0 : mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < nts; i++)
		names[i] = ts[i]->name;
	for (size_t j = 0; !rc && j < n; j++)
		names[nts + j] = tis[j].name;
	if (!rc)
		rc = mg_tensors_match(idx, how, names, nts, names + nts, n, "inputs", err);
	for (size_t j = 0; !rc && j < n; j++) {
		const mg_tensor *t = ts[idx[j]];
		mg_tensor *real = NULL;
		if (ts_info && mg_dtype_from_name(tis[j].dtype) == MG_DT_FLOAT32 &&
		    mg_quant_applies(t->dtype, &ts_info[idx[j]].quant)) {
			if ((rc = mg_dequantize(&real, t, &ts_info[idx[j]].quant, err)))
				break;
			t = real;
		}
		int turn = from && to && strcmp(from, to) && t->rank == 4 && !mg_input_fits(t, &tis[j]);
		rc = turn ? mg_tensor_relayout(&o[j], t, from, to, err)
			  : mg_tensor_new(&o[j], t->name, t->dtype, t->dims, t->rank, err);
		if (!rc && !turn)
			memcpy(o[j]->data, t->data, t->nbytes);
		if (!rc)
			rc = mg_tensor_set_name(o[j], tis[j].name, err);
		if (!rc) /* another type converted where every value survives */
			rc = check_type(&o[j], &tis[j], 0, where, NULL, err);
		if (!rc && !mg_input_fits(o[j], &tis[j])) {
			char have[128], want[128];
			mg_shape_format(have, sizeof(have), o[j]->dims, o[j]->rank);
			mg_shape_format(want, sizeof(want), tis[j].dims,
					tis[j].rank <= MG_TENSOR_MAX_RANK ? tis[j].rank : 0);
			rc = mg_error_set(err, MG_EINVAL, "input '%s' is %s%s%s%s, and '%s' of '%s' takes %s (-1: any)",
					  t->name, have, turn ? " (transposed from " : "", turn ? from : "",
					  turn ? ")" : "", tis[j].name, model, want);
		}
		mg_tensor_free(real);
	}
	if (!rc)
		rc = mg_inputs_quantize(o, tis, n, NULL, err);
	free(names);
	free(idx);
	if (rc) {
		mg_tensors_free(o, n);
		return rc;
	}
	*out = o;
	return 0;
}

/* "(360, 64)", "(n, 64)": dims with names (may be NULL) for negative ones. */
static void shape_text(char *buf, size_t len, const int64_t *dims, const char *const *names, size_t rank)
{
	size_t used = (size_t)snprintf(buf, len, "(");
	for (size_t k = 0; k < rank && used < len; k++)
		used += (size_t)(dims[k] >= 0 ? snprintf(buf + used, len - used, "%s%lld", k ? ", " : "",
							 (long long)dims[k])
				       : snprintf(buf + used, len - used, "%s%s", k ? ", " : "",
						  names && names[k] ? names[k] : "?"));
	if (used < len)
		snprintf(buf + used, len - used, rank == 1 ? ",)" : ")");
}

static int check_type(mg_tensor **t, const mg_tensor_info *ti, int cast, const char *where, mg_buf *said,
		      mg_error *err)
{
	mg_dtype want = mg_dtype_from_name(ti->dtype), have = (*t)->dtype;
	if (want == MG_DT_UNDEFINED || want == have || mg_input_quantizes(*t, ti))
		return 0;
	mg_tensor *c = NULL;
	size_t bad = SIZE_MAX;
	mg_error e = {0};
	int real = want == MG_DT_FLOAT32 || want == MG_DT_FLOAT64;
	int rc = mg_tensor_cast(&c, *t, want, &bad, &e);
	if (rc && rc != MG_EINVAL)
		return mg_error_set(err, rc, "%s", e.msg);
	if (rc)
		return mg_error_set(err, MG_EINVAL, "%s: input '%s' is %s, the model takes %s", where, ti->name,
				    mg_dtype_name(have), ti->dtype);
	if (bad != SIZE_MAX && !(cast && real)) {
		size_t count = mg_tensor_count(*t), rows = (*t)->rank && (*t)->dims[0] > 0 ? (size_t)(*t)->dims[0] : 1;
		size_t row = bad / (count / rows ? count / rows : 1);
		if (real)
			mg_error_set(err, MG_EINVAL, "%s: input '%s' is %s, the model takes %s, and row %zu holds "
				     "%.17g, which %s rounds: convert it with x.astype(np.%s), or pass --cast "
				     "(\"cast\": true in the dataset) to round it", where, ti->name,
				     mg_dtype_name(have), ti->dtype, row, mg_tensor_get(*t, bad), ti->dtype,
				     ti->dtype);
		else
			mg_error_set(err, MG_EINVAL, "%s: input '%s' is %s, the model takes %s, and row %zu holds "
				     "%.17g, which %s cannot hold", where, ti->name, mg_dtype_name(have), ti->dtype,
				     row, mg_tensor_get(*t, bad), ti->dtype);
		mg_tensor_free(c);
		return MG_EINVAL;
	}
	rc = said ? mg_buf_printf(said, err, "input '%s' converted from %s to %s%s\n", ti->name,
				      mg_dtype_name(have), ti->dtype, bad == SIZE_MAX ? " (every value exact)"
										 : " (--cast: rounded)") : 0;
	mg_tensor_free(*t);
	*t = c;
	return rc;
}

int mg_input_check(mg_tensor **t, const mg_tensor_info *ti, int cast, int runs, const char *where,
		   mg_buf *said, mg_error *err)
{
	int rc = check_type(t, ti, cast, where, said, err);
	if (rc || ti->rank == SIZE_MAX)
		return rc;
	int ok = runs ? mg_input_fits(*t, ti) : ti->rank == (*t)->rank;
	for (size_t k = 0; ok && !runs && k < ti->rank; k++)
		ok = ti->dims[k] < 0 || ti->dims[k] == (*t)->dims[k];
	if (ok)
		return 0;
	char have[200], want[200];
	shape_text(have, sizeof(have), (*t)->dims, NULL, (*t)->rank);
	shape_text(want, sizeof(want), ti->dims, (const char *const *)ti->dim_names,
		      ti->rank <= MG_TENSOR_MAX_RANK ? ti->rank : 0);
	return mg_error_set(err, MG_EINVAL, "%s: input '%s' has shape %s, the model takes %s", where, ti->name,
			    have, want);
}

int mg_input_rows(mg_tensor **out, const mg_tensor *t, size_t first, size_t n, size_t *padded,
		  mg_error *err)
{
	size_t rows = t->rank ? (size_t)t->dims[0] : 0, have = first < rows ? rows - first : 0;
	if (!have)
		return mg_error_set(err, MG_EINVAL, "tensor '%s': no row %zu", t->name, first);
	if (padded)
		*padded = n > have ? n - have : 0;
	if (n <= have)
		return mg_tensor_rows(out, t, first, n, err);
	int64_t dims[MG_TENSOR_MAX_RANK];
	memcpy(dims, t->dims, sizeof(dims));
	dims[0] = (int64_t)n;
	int rc = mg_tensor_new(out, t->name, t->dtype, dims, t->rank, err);
	size_t row = t->nbytes / rows;
	unsigned char *o = rc ? NULL : (*out)->data;
	const unsigned char *src = (const unsigned char *)t->data + first * row;
	for (size_t i = 0; o && i < n; i++)
		memcpy(o + i * row, src + (i < have ? i : have - 1) * row, row);
	return rc;
}
