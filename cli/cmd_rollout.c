/* modelgate rollout start|status|advance|abort: a fleet's staged rollout,
 * driven from CI (docs/FLEET.md). start writes a signed rollout plan
 * (pipelines/rollout.c) for a release and points the fleet tag at it;
 * status reads every device's retained status from the MQTT broker and
 * shows the rollout per stage; advance moves to the next stage when the
 * current one is healthy, or halts the rollout (every device back on the
 * previous release) when failures pass --max-failures, and may run from a
 * scheduled job again and again; abort sends every device back at once.
 * The plan in the registry is the rollout's whole state: any machine with
 * the fleet key can be the controller, one at a time (the tag moves only
 * from the plan the controller read). */
#include "cli.h"
#include "net/mqtt.h"
#include "pipelines/deploy.h"
#include "pipelines/rollout.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define STATUS_QUIET_MS 1000
#define STATUS_TIMEOUT_MS 30000

typedef struct ro_args {
	const char *fleet, *tag, *stages, *max_failures, *min_healthy, *sign, *pub, *reason;
	const char *broker, *mqtt_user, *mqtt_ca, *mqtt_cert, *mqtt_key, *format;
	int rollback;
	char pub_default[4200];
} ro_args;

/* The fleet tag's repository and what it points at now. */
typedef struct fleet {
	mg_ref *ref;   /* the fleet tag */
	mg_repo repo;
	char head[MG_DIGEST_SIZE]; /* "" : the tag is not there */
	char type[256];            /* its artifactType */
} fleet;

static void fleet_close(fleet *f)
{
	mg_repo_close(&f->repo);
	mg_ref_free(f->ref);
}

/* Opens the fleet tag: TAG (default fleet-NAME) in where's repository. */
static int fleet_open(mg_cli *cli, const ro_args *a, const char *where, fleet *f, mg_error *err)
{
	memset(f, 0, sizeof(*f));
	char tag[256];
	snprintf(tag, sizeof(tag), a->tag ? "%s" : "fleet-%s", a->tag ? a->tag : a->fleet);
	if (!mg_tag_valid(tag))
		return mg_error_set(err, MG_EINVAL, "'%s' is not a valid fleet tag", tag);
	mg_ref *r = NULL;
	int rc = mg_ref_parse(&r, where, err);
	char *s = rc ? NULL : mg_ref_retag(r, tag, err);
	mg_ref_free(r);
	if (!rc && !s)
		rc = MG_ENOMEM;
	if (!rc)
		rc = mg_ref_parse(&f->ref, s, err);
	free(s);
	if (!rc)
		rc = cli_repo_open(cli, &f->repo, f->ref, err);
	if (rc)
		return rc;
	mg_error e = {0};
	mg_buf mb = MG_BUF_INIT;
	mg_manifest *m = NULL;
	rc = mg_repo_get_manifest(&f->repo, f->ref->tag, NULL, &mb, f->head, NULL, &e);
	if (rc == MG_ENOTFOUND) {
		f->head[0] = '\0';
		return 0;
	}
	if (!rc)
		rc = mg_manifest_parse(&m, mb.data, mb.len, f->head, &e);
	if (rc)
		mg_error_set(err, e.code, "%s", e.msg);
	else
		snprintf(f->type, sizeof(f->type), "%s", m->artifact_type ? m->artifact_type : "");
	mg_manifest_free(m);
	mg_buf_free(&mb);
	return rc;
}

/* The plan the fleet tag points at, its signature checked with the fleet
 * key's public half. */
static int fleet_plan(const ro_args *a, const fleet *f, mg_rollout_plan *p, mg_error *err)
{
	if (!f->head[0])
		return mg_error_set(err, MG_EINVAL, "the fleet tag '%s' does not exist: no rollout (start "
				    "one with 'modelgate rollout start')", f->repo.label);
	if (strcmp(f->type, MG_ARTIFACT_ROLLOUT))
		return mg_error_set(err, MG_EINVAL, "the fleet tag %s:%s points at %s, a release, not a "
				    "rollout plan: no rollout is going on", f->repo.label, f->ref->tag,
				    f->head);
	int rc = mg_rollout_read(&f->repo, f->head, a->pub, p, err);
	if (!rc && strcmp(p->fleet, a->fleet))
		rc = mg_error_set(err, MG_EINVAL, "the plan at %s:%s is of fleet '%s', not '%s'",
				  f->repo.label, f->ref->tag, p->fleet, a->fleet);
	return rc;
}

/* status and advance when the fleet tag names a release (or nothing): no
 * rollout is going on, which a scheduled job meets between rollouts and
 * is not an error. */
static int no_rollout(mg_cli *cli, const ro_args *a, const fleet *f)
{
	if (cli->json) {
		json_t *j = json_pack("{s:s, s:o, s:s, s:s}", "fleet", a->fleet, "release",
				      f->head[0] ? json_string(f->head) : json_null(), "step", "stopped",
				      "why", "no rollout");
		cli_print_json(j); /* frees j */
	} else {
		printf("fleet %s: no rollout; %s:%s %s%s\n", a->fleet, f->repo.label, f->ref->tag,
		       f->head[0] ? "points at release " : "does not exist", f->head);
	}
	return 0;
}

static int random_hex(char *out, size_t bytes, mg_error *err)
{
	unsigned char b[32];
	if (getrandom(b, bytes, 0) != (ssize_t)bytes)
		return mg_error_sys(err, MG_EIO, errno, "cannot read random bytes");
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	return 0;
}

static int parse_percent(const char *s, double *out, mg_error *err)
{
	char *end;
	*out = strtod(s, &end);
	if (end != s && *end == '%')
		end++;
	if (end == s || *end || !(*out >= 0 && *out <= 100))
		return mg_error_set(err, MG_EINVAL, "--max-failures '%s' is not a percent from 0 to 100", s);
	return 0;
}

static int start(mg_cli *cli, const ro_args *a, const char *refname, mg_error *err)
{
	mg_rollout_plan p, was;
	memset(&p, 0, sizeof(p));
	int rc = 0;
	snprintf(p.fleet, sizeof(p.fleet), "%s", a->fleet);
	if ((rc = mg_rollout_parse_stages(&p, a->stages, err)) ||
	    (rc = parse_percent(a->max_failures, &p.max_failures, err)) ||
	    (rc = mg_rollout_parse_duration(a->min_healthy, &p.min_healthy_time, err)))
		return rc;
	fleet f;
	mg_ref *ref = NULL;
	mg_buf mb = MG_BUF_INIT;
	mg_manifest *m = NULL;
	if ((rc = fleet_open(cli, a, refname, &f, err)) || (rc = mg_ref_parse(&ref, refname, err)) ||
	    (rc = mg_repo_digest_of(&f.repo, ref, p.target, err)) ||
	    (rc = mg_repo_get_manifest(&f.repo, NULL, p.target, &mb, NULL, NULL, err)) ||
	    (rc = mg_manifest_parse(&m, mb.data, mb.len, p.target, err)))
		goto done;
	if (!m->artifact_type || strcmp(m->artifact_type, MG_ARTIFACT_BUNDLE)) {
		rc = mg_error_set(err, MG_EINVAL, "'%s' is not a fleet release: push a signed bundle with "
				  "--artifact-type bundle", refname);
		goto done;
	}
	/* what the fleet runs now is the release to go back to */
	if (!strcmp(f.type, MG_ARTIFACT_ROLLOUT)) {
		if ((rc = fleet_plan(a, &f, &was, err)))
			goto done;
		if (was.state == MG_ROLLOUT_RUNNING) {
			rc = mg_error_set(err, MG_EINVAL, "rollout %s of fleet '%s' is still going out (stage "
					  "%zu of %zu): let it finish, or 'modelgate rollout abort' it first",
					  was.id, a->fleet, was.stage + 1, was.nstages);
			goto done;
		}
		memcpy(p.previous, was.state == MG_ROLLOUT_DONE ? was.target : was.previous, MG_DIGEST_SIZE);
	} else if (f.head[0]) {
		memcpy(p.previous, f.head, MG_DIGEST_SIZE);
	}
	if (!strcmp(p.previous, p.target)) {
		rc = mg_error_set(err, MG_EINVAL, "the fleet '%s' runs %s already", a->fleet, p.target);
		goto done;
	}
	p.rollback = a->rollback;
	p.started = p.stage_started = (int64_t)time(NULL);
	char plan[MG_DIGEST_SIZE];
	if ((rc = random_hex(p.id, 8, err)) || (rc = random_hex(p.salt, 16, err)) ||
	    (rc = mg_rollout_publish(&f.repo, f.ref->tag, f.head, &p, a->sign, plan, err)))
		goto done;
	if (cli->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:f}", "rollout", p.id, "fleet",
				      p.fleet, "plan", plan, "target", p.target, "previous",
				      p.previous[0] ? json_string(p.previous) : json_null(), "stage",
				      (json_int_t)1, "percent", p.stages[0]);
		cli_print_json(j); /* frees j */
	} else {
		printf("rollout %s of fleet %s started: stage 1 of %zu (%g%%) gets %s\n", p.id, p.fleet,
		       p.nstages, p.stages[0], p.target);
		cli_info(cli, "%s:%s -> %s (the plan)\n", f.repo.label, f.ref->tag, plan);
	}
done:
	mg_manifest_free(m);
	mg_buf_free(&mb);
	mg_ref_free(ref);
	fleet_close(&f);
	return rc;
}

typedef struct collect {
	mg_rollout_tally *t;
	const mg_rollout_plan *p;
	const char *plan;
	mg_error *err;
} collect;

/* A status that is none, or of another fleet, is left out; out of memory
 * stops the tally. */
static int one_status(void *ctx, const char *topic, const void *data, size_t len)
{
	(void)topic;
	collect *c = ctx;
	mg_error e = {0};
	int rc = mg_rollout_tally_add(c->t, c->p, c->plan, data, len, &e);
	if (rc != MG_ENOMEM)
		return 0;
	if (c->err)
		*c->err = e;
	return rc;
}

/* Every device's retained status from the broker, tallied. */
static int tally(const ro_args *a, const mg_rollout_plan *p, const char *plan, mg_rollout_tally *t,
		 mg_error *err)
{
	if (!a->broker)
		return mg_error_set(err, MG_EINVAL, "--broker HOST[:PORT] is required: the devices' "
				    "status is read from the fleet's MQTT broker");
	char host[256];
	int port = 0;
	const char *colon = strrchr(a->broker, ':');
	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - a->broker) : (int)strlen(a->broker),
		 a->broker);
	if (colon) {
		char *end;
		long v = strtol(colon + 1, &end, 10);
		if (*end || v < 1 || v > 65535)
			return mg_error_set(err, MG_EINVAL, "--broker '%s': the port is not a number from 1 "
					    "to 65535", a->broker);
		port = (int)v;
	}
	mg_mqtt_opts o = {host, port, a->mqtt_user, getenv("MODELGATE_MQTT_PASSWORD"), a->mqtt_ca,
			  a->mqtt_cert, a->mqtt_key, NULL};
	if (a->mqtt_user && !o.password)
		return mg_error_set(err, MG_EINVAL, "--mqtt-user needs the password in "
				    "MODELGATE_MQTT_PASSWORD");
	char filter[256];
	snprintf(filter, sizeof(filter), "modelgate/%s/+/status", p->fleet);
	mg_rollout_tally_init(t, p);
	collect c = {t, p, plan, err};
	return mg_mqtt_collect(&o, filter, STATUS_QUIET_MS, STATUS_TIMEOUT_MS, one_status, &c, err);
}

static int status(mg_cli *cli, const ro_args *a, const char *where, mg_error *err)
{
	mg_rollout_format f = cli->json ? MG_ROLLOUT_JSON : MG_ROLLOUT_TEXT;
	if (a->format && !strcmp(a->format, "markdown"))
		f = MG_ROLLOUT_MARKDOWN;
	else if (a->format && !strcmp(a->format, "html"))
		f = MG_ROLLOUT_HTML;
	else if (a->format && strcmp(a->format, "text"))
		return mg_error_set(err, MG_EINVAL, "--format '%s' is not text, markdown or html", a->format);
	fleet fl;
	mg_rollout_plan p;
	mg_rollout_tally *t = calloc(1, sizeof(*t));
	mg_buf out = MG_BUF_INIT;
	char why[1024];
	int rc = t ? 0 : mg_error_set(err, MG_ENOMEM, "out of memory");
	if (!rc && !(rc = fleet_open(cli, a, where, &fl, err))) {
		if (strcmp(fl.type, MG_ARTIFACT_ROLLOUT))
			rc = no_rollout(cli, a, &fl);
		else if (!(rc = fleet_plan(a, &fl, &p, err)) && !(rc = tally(a, &p, fl.head, t, err))) {
			mg_rollout_step step = mg_rollout_decide(&p, t, (int64_t)time(NULL), why, sizeof(why));
			rc = mg_rollout_view(&out, f, &p, fl.head, t, step, why, err);
		}
		fleet_close(&fl);
	}
	if (!rc && out.len) /* no_rollout printed its own */
		fwrite(out.data, 1, out.len, stdout);
	mg_buf_free(&out);
	if (t)
		mg_rollout_tally_free(t);
	free(t);
	return rc;
}

/* advance and abort: what changed, in a line or as JSON. */
static void said(mg_cli *cli, const mg_rollout_plan *p, const char *step, const char *plan,
		 const char *why)
{
	if (cli->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:I, s:s, s:s}", "rollout", p->id, "fleet",
				      p->fleet, "step", step, "plan", plan ? json_string(plan) : json_null(),
				      "stage", (json_int_t)p->stage + 1, "state",
				      mg_rollout_state_name(p->state), "why", why);
		cli_print_json(j); /* frees j */
	} else {
		char clean[1200];
		mg_escape_controls(clean, sizeof(clean), why);
		printf("rollout %s of fleet %s: %s: %s\n", p->id, p->fleet, step, clean);
	}
}

static int advance(mg_cli *cli, const ro_args *a, const char *where, int abort_it, mg_error *err)
{
	fleet fl;
	mg_rollout_plan p;
	mg_rollout_tally *t = calloc(1, sizeof(*t));
	char why[1024], plan[MG_DIGEST_SIZE];
	int rc = t ? 0 : mg_error_set(err, MG_ENOMEM, "out of memory");
	if (rc || (rc = fleet_open(cli, a, where, &fl, err))) {
		free(t);
		return rc;
	}
	if (!abort_it && strcmp(fl.type, MG_ARTIFACT_ROLLOUT)) {
		rc = no_rollout(cli, a, &fl);
		goto done;
	}
	if ((rc = fleet_plan(a, &fl, &p, err)))
		goto done;
	mg_rollout_step step;
	if (abort_it) {
		if (p.state == MG_ROLLOUT_HALTED || p.state == MG_ROLLOUT_ABORTED) {
			said(cli, &p, "stopped", NULL, "already stopped: every device is back on the previous release");
			goto done;
		}
		if (p.state == MG_ROLLOUT_DONE) {
			rc = mg_error_set(err, MG_EINVAL, "rollout %s is done: the fleet runs %s; to go back, "
					  "start a rollout of the old release with --rollback", p.id, p.target);
			goto done;
		}
		step = MG_STEP_HALT;
		snprintf(why, sizeof(why), "%s", a->reason ? a->reason : "aborted by rollout abort");
	} else if (p.state != MG_ROLLOUT_RUNNING) {
		step = mg_rollout_decide(&p, t, (int64_t)time(NULL), why, sizeof(why));
	} else if ((rc = tally(a, &p, fl.head, t, err))) {
		goto done;
	} else {
		step = mg_rollout_decide(&p, t, (int64_t)time(NULL), why, sizeof(why));
	}
	int64_t now = (int64_t)time(NULL);
	switch (step) {
	case MG_STEP_WAIT:
		said(cli, &p, "wait", NULL, why);
		goto done;
	case MG_STEP_STOPPED:
		said(cli, &p, "stopped", NULL, why);
		rc = p.state == MG_ROLLOUT_DONE ? 0 : MG_EXIT_GATE; /* a halted rollout does not go on */
		if (rc)
			fprintf(stderr, "modelgate: refusing to advance rollout %s: it was %s\n", p.id,
				mg_rollout_state_name(p.state));
		goto done;
	case MG_STEP_ADVANCE:
		p.stage++;
		p.stage_started = now;
		break;
	case MG_STEP_FINISH:
		p.state = MG_ROLLOUT_DONE;
		break;
	case MG_STEP_HALT:
		p.state = abort_it ? MG_ROLLOUT_ABORTED : MG_ROLLOUT_HALTED;
		snprintf(p.reason, sizeof(p.reason), "%.*s", (int)sizeof(p.reason) - 1, why);
		break;
	}
	if ((rc = mg_rollout_publish(&fl.repo, fl.ref->tag, fl.head, &p, a->sign, plan, err)))
		goto done;
	said(cli, &p, abort_it ? "abort" : mg_rollout_step_name(step), plan, why);
	if (step == MG_STEP_HALT && !abort_it)
		rc = MG_EXIT_GATE;
done:
	fleet_close(&fl);
	mg_rollout_tally_free(t);
	free(t);
	return rc;
}

static int cmd_rollout(mg_cli *cli, int argc, char **argv)
{
	ro_args a = {.stages = "1%,10%,50%,100%", .max_failures = "2%", .min_healthy = "10m"};
	int c;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		switch (c) {
		case 'f': a.fleet = optarg; break;
		case 't': a.tag = optarg; break;
		case 's': a.stages = optarg; break;
		case 'm': a.max_failures = optarg; break;
		case 'H': a.min_healthy = optarg; break;
		case 'S': a.sign = optarg; break;
		case 'k': a.pub = optarg; break;
		case 'R': a.rollback = 1; break;
		case 'r': a.reason = optarg; break;
		case 'b': a.broker = optarg; break;
		case 'u': a.mqtt_user = optarg; break;
		case 'A': a.mqtt_ca = optarg; break;
		case 'c': a.mqtt_cert = optarg; break;
		case 'Y': a.mqtt_key = optarg; break;
		case 'F': a.format = optarg; break;
		default:
			if ((c = cli_common_opt(cli, c)) >= 0)
				return c;
		}
	}
	static const char *const actions[] = {"start", "status", "advance", "abort", NULL};
	if (argc - optind != 2)
		return cli_usage_error(cli, "expected an action (start, status, advance or abort) and a "
				       "reference");
	const char *action = argv[optind], *where = argv[optind + 1];
	size_t k = 0;
	while (actions[k] && strcmp(actions[k], action))
		k++;
	if (!actions[k]) {
		const char *near = mg_closest(action, actions);
		return cli_usage_error(cli, "'%s' is not a rollout action (start, status, advance or "
				       "abort)%s%s%s", action, near ? "; did you mean '" : "",
				       near ? near : "", near ? "'?" : "");
	}
	if (!a.fleet)
		return cli_usage_error(cli, "--fleet NAME is required");
	if (strlen(a.fleet) >= sizeof(((mg_rollout_plan *)0)->fleet) || !mg_tag_valid(a.fleet))
		return cli_usage_error(cli, "--fleet '%s' is not a name (letters, digits, '_', then also '.' and '-')",
				       a.fleet);
	int changes = k != 1;
	if (changes && !a.sign)
		return cli_usage_error(cli, "rollout %s signs a new plan: --sign KEY (the fleet key) is "
				       "required", action);
	if (!a.pub && a.sign) {
		snprintf(a.pub_default, sizeof(a.pub_default), "%s.pub", a.sign);
		a.pub = a.pub_default;
	}
	mg_error err = {0};
	int rc = k == 0 ? start(cli, &a, where, &err)
		: k == 1 ? status(cli, &a, where, &err)
		: advance(cli, &a, where, k == 3, &err);
	if (rc == MG_EXIT_GATE)
		return rc;
	return rc ? cli_fail(cli, &err) : 0;
}

static const mg_opt rollout_opts[] = {
	{"fleet", 0, 'f', "NAME", "The fleet (its devices' config says the same name; required)."},
	{"tag", 0, 't', "TAG", "The fleet tag in the repository (default fleet-NAME)."},
	{"stages", 0, 's', "LIST", "start: the cumulative shares of the fleet, rising to 100% (default 1%,10%,50%,100%)."},
	{"max-failures", 0, 'm', "PERCENT", "start: the share of a stage's devices that may fail before the rollout halts (default 2%)."},
	{"min-healthy-time", 0, 'H', "DURATION", "start: how long a stage stays healthy before the next goes out, as 30s, 10m, 2h (default 10m)."},
	{"rollback", 0, 'R', NULL, "start: the release may be older than what devices run (a rollback)."},
	{"sign", 0, 'S', "KEY", "The fleet key that signs the plan (start, advance, abort)."},
	{"key", 0, 'k', "KEY.pub", "The public key the plan is checked with (default KEY.pub of --sign)."},
	{"reason", 0, 'r', "TEXT", "abort: why, recorded in the plan."},
	{"broker", 0, 'b', "HOST[:PORT]", "The fleet's MQTT broker, where devices publish their status (status, advance)."},
	{"mqtt-user", 0, 'u', "USER", "The broker's user name; the password is read from MODELGATE_MQTT_PASSWORD."},
	{"mqtt-ca-file", 0, 'A', "FILE", "Speak TLS to the broker, trusting this CA (port 8883 by default)."},
	{"mqtt-cert", 0, 'c', "FILE", "A client certificate for the broker."},
	{"mqtt-key", 0, 'Y', "FILE", "The client certificate's key."},
	{"format", 0, 'F', "FORMAT", "status: text (the default), markdown or html (--json for JSON)."},
	CLI_OPT_END};

const mg_cmd cli_cmd_rollout = {
	.name = "rollout",
	.fn = cmd_rollout,
	.summary = "roll a release out to a fleet in stages, from CI",
	.description = "start points the fleet tag at a signed rollout plan for a release; devices "
		       "take it by cohort. status shows each stage from the devices' status on the "
		       "broker. advance moves on when the stage is healthy, or halts the rollout "
		       "(exit 1, every device back on the previous release) when failures pass "
		       "--max-failures; it is safe to run again and again. abort sends every device "
		       "back at once.",
	.synopsis = {"start REF --fleet NAME --sign KEY [--stages LIST] [--max-failures PERCENT] [--min-healthy-time DURATION]",
		     "status REPO --fleet NAME --broker HOST[:PORT] [--format FORMAT]",
		     "advance REPO --fleet NAME --sign KEY --broker HOST[:PORT]",
		     "abort REPO --fleet NAME --sign KEY [--reason TEXT]"},
	.opts = {rollout_opts, cli_remote_opts},
	.examples = {{"modelgate rollout start registry.example.com/acme/kws:rel-7 --fleet prod --sign fleet-key --stages 5%,25%,100%",
		      "Start rolling release rel-7 out to 5% of the fleet prod."},
		     {"modelgate rollout advance registry.example.com/acme/kws --fleet prod --sign fleet-key --broker mqtt.example.com:8883 --mqtt-ca-file ca.pem",
		      "From a scheduled job: the next stage once this one is healthy, or halt."},
		     {"modelgate rollout status registry.example.com/acme/kws --fleet prod --broker mqtt.example.com --format markdown",
		      "The rollout per stage, failures grouped by reason and label, for a job summary."}},
};
