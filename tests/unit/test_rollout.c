/* Unit tests of staged rollouts (pipelines/rollout.c): stages and
 * durations as the CLI takes them, the plan's JSON both ways, cohorts
 * (deterministic, spread, per salt), the release a plan gives a device,
 * a signed plan in a local store (read back, refused under another key,
 * the tag moved only while it points where the controller read it), and
 * the controller's tally and decisions. The fleet end to end is in
 * tests/cli/t_rollout_*.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipelines/rollout.h"
#include "pipelines/sign.h"
#include "scratch.h"

#define T1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define T0 "sha256:0000000000000000000000000000000000000000000000000000000000000000"
#define PD "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static const char *dir;

static int setup(void **state)
{
	(void)state;
	dir = scratch_dir("rollout");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mg_remove_tree(dir);
	return 0;
}

static void plan_init(mg_rollout_plan *p)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->id, "0123456789abcdef");
	strcpy(p->fleet, "kws-prod");
	strcpy(p->salt, "00112233445566778899aabbccddeeff");
	strcpy(p->target, T1);
	strcpy(p->previous, T0);
	mg_error err = {0};
	assert_int_equal(mg_rollout_parse_stages(p, "5%,25%,100%", &err), 0);
	p->max_failures = 2;
	p->min_healthy_time = 600;
	p->started = p->stage_started = 1764000000;
}

static void test_stages_and_durations_parse_or_say_why(void **state)
{
	(void)state;
	mg_rollout_plan p;
	mg_error err = {0};
	assert_int_equal(mg_rollout_parse_stages(&p, "1%,10%,50%,100%", &err), 0);
	assert_int_equal(p.nstages, 4);
	assert_true(p.stages[1] == 10 && p.stages[3] == 100);
	assert_int_equal(mg_rollout_parse_stages(&p, "0.5,100", &err), 0);
	assert_true(p.stages[0] == 0.5);
	assert_int_equal(mg_rollout_parse_stages(&p, "25%,5%,100%", &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "larger share"));
	assert_int_equal(mg_rollout_parse_stages(&p, "5%,50%", &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "100%"));
	assert_int_equal(mg_rollout_parse_stages(&p, "5%,x,100%", &err), MG_EINVAL);
	assert_int_equal(mg_rollout_parse_stages(&p, "5%,150%", &err), MG_EINVAL);
	assert_int_equal(mg_rollout_parse_stages(&p, "", &err), MG_EINVAL);
	int64_t s;
	assert_int_equal(mg_rollout_parse_duration("10m", &s, &err), 0);
	assert_int_equal(s, 600);
	assert_int_equal(mg_rollout_parse_duration("90", &s, &err), 0);
	assert_int_equal(s, 90);
	assert_int_equal(mg_rollout_parse_duration("1.5h", &s, &err), 0);
	assert_int_equal(s, 5400);
	assert_int_equal(mg_rollout_parse_duration("10 minutes", &s, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "'10 minutes'"));
	assert_int_equal(mg_rollout_parse_duration("-1s", &s, &err), MG_EINVAL);
}

static void test_plan_json_goes_both_ways_and_refuses_damage(void **state)
{
	(void)state;
	mg_rollout_plan p, q;
	plan_init(&p);
	p.stage = 1;
	p.state = MG_ROLLOUT_HALTED;
	strcpy(p.reason, "3 of 12 devices failed");
	mg_buf b = MG_BUF_INIT;
	mg_error err = {0};
	assert_int_equal(mg_rollout_encode(&p, &b, &err), 0);
	assert_int_equal(mg_rollout_decode(&q, b.data, b.len, "plan", &err), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	/* each field damaged is named */
	static const char *const bad[][2] = {
		{"\"stage\":1", "\"stage\":3"},         {"\"state\":\"halted\"", "\"state\":\"odd\""},
		{"\"max_failures\":2.0", "\"max_failures\":-1"}, {"\"salt\":\"00", "\"salt\":\"zz"},
		{"\"previous\":\"sha256:0", "\"previous\":\"md5:0"}, {"100.0]", "90.0]"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char *s = strdup(b.data);
		char *at = strstr(s, bad[i][0]);
		assert_non_null(at);
		mg_buf c = MG_BUF_INIT;
		mg_buf_append(&c, s, (size_t)(at - s), NULL);
		mg_buf_puts(&c, bad[i][1], NULL);
		mg_buf_puts(&c, at + strlen(bad[i][0]), NULL);
		assert_int_equal(mg_rollout_decode(&q, c.data, c.len, "plan X", &err), MG_ECORRUPT);
		assert_non_null(strstr(err.msg, "plan X is not a rollout plan"));
		free(s);
		mg_buf_free(&c);
	}
	assert_int_equal(mg_rollout_decode(&q, "[]", 2, "plan", &err), MG_ECORRUPT);
	mg_buf_free(&b);
}

static void test_cohorts_are_fixed_spread_and_salted(void **state)
{
	(void)state;
	const char *salt = "00112233445566778899aabbccddeeff";
	const char *other = "ffeeddccbbaa99887766554433221100";
	size_t in25 = 0, moved = 0;
	for (int i = 0; i < 1000; i++) {
		char id[32];
		snprintf(id, sizeof(id), "dev-%04d", i);
		unsigned c = mg_rollout_cohort(salt, id);
		assert_true(c < MG_ROLLOUT_BP);
		assert_int_equal(c, mg_rollout_cohort(salt, id));
		in25 += c < 2500;
		moved += c != mg_rollout_cohort(other, id);
	}
	/* 250 expected; a binomial(1000, 0.25) stays within +-60 */
	assert_true(in25 > 190 && in25 < 310);
	assert_true(moved > 990);
}

static void test_a_device_gets_the_target_once_its_stage_is_out(void **state)
{
	(void)state;
	mg_rollout_plan p;
	plan_init(&p);
	char early[32] = "", late[32] = "";
	for (int i = 0; i < 1000 && (!early[0] || !late[0]); i++) {
		char id[32];
		snprintf(id, sizeof(id), "dev-%d", i);
		unsigned c = mg_rollout_cohort(p.salt, id);
		if (c < 500 && !early[0])
			strcpy(early, id);
		if (c >= 2500 && !late[0])
			strcpy(late, id);
	}
	assert_int_equal(mg_rollout_stage_of(&p, mg_rollout_cohort(p.salt, early)), 0);
	assert_int_equal(mg_rollout_stage_of(&p, mg_rollout_cohort(p.salt, late)), 2);
	int back;
	assert_string_equal(mg_rollout_desired(&p, early, &back), T1);
	assert_false(back);
	assert_string_equal(mg_rollout_desired(&p, late, &back), T0);
	assert_true(back);
	p.stage = 2;
	assert_string_equal(mg_rollout_desired(&p, late, &back), T1);
	p.state = MG_ROLLOUT_HALTED;
	assert_string_equal(mg_rollout_desired(&p, early, &back), T0);
	assert_true(back);
	/* a first rollout has nothing to go back to: keep what runs */
	p.previous[0] = '\0';
	assert_null(mg_rollout_desired(&p, early, &back));
	p.state = MG_ROLLOUT_RUNNING;
	p.stage = 0;
	p.rollback = 1;
	assert_string_equal(mg_rollout_desired(&p, early, &back), T1);
	assert_true(back);
}

static void test_a_signed_plan_moves_the_tag_only_from_where_it_was_read(void **state)
{
	(void)state;
	char key[4200], other[4200], pub[4300], opub[4300], root[4200];
	snprintf(key, sizeof(key), "%s/fleet", dir);
	snprintf(other, sizeof(other), "%s/other", dir);
	snprintf(pub, sizeof(pub), "%s.pub", key);
	snprintf(opub, sizeof(opub), "%s.pub", other);
	snprintf(root, sizeof(root), "%s/store", dir);
	mg_error err = {0};
	assert_int_equal(mg_keygen(key, 0, &err), 0);
	assert_int_equal(mg_keygen(other, 0, &err), 0);
	mg_store *st = NULL;
	assert_int_equal(mg_store_open(&st, root, &err), 0);
	mg_ref *ref = NULL;
	assert_int_equal(mg_ref_parse(&ref, "kws:fleet-prod", &err), 0);
	mg_repo_opts o = MG_REPO_OPTS_INIT;
	o.store = st;
	mg_repo r;
	assert_int_equal(mg_repo_open(&r, ref, &o, &err), 0);

	mg_rollout_plan p, q;
	plan_init(&p);
	char d1[MG_DIGEST_SIZE], d2[MG_DIGEST_SIZE], now[MG_DIGEST_SIZE];
	assert_int_equal(mg_rollout_publish(&r, "fleet-prod", "", &p, key, d1, &err), 0);
	assert_int_equal(mg_repo_resolve(&r, "fleet-prod", now, &err), 0);
	assert_string_equal(now, d1);
	assert_int_equal(mg_rollout_read(&r, d1, pub, &q, &err), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	assert_int_equal(mg_rollout_read(&r, d1, opub, &q, &err), MG_ECORRUPT);
	assert_int_equal(mg_rollout_read(&r, d1, NULL, &q, &err), 0);

	/* a controller that read nothing (or an old plan) moves nothing */
	p.stage = 1;
	assert_int_equal(mg_rollout_publish(&r, "fleet-prod", "", &p, key, d2, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "another controller"));
	assert_int_equal(mg_repo_resolve(&r, "fleet-prod", now, &err), 0);
	assert_string_equal(now, d1);
	assert_int_equal(mg_rollout_publish(&r, "fleet-prod", d1, &p, key, d2, &err), 0);
	assert_int_equal(mg_repo_resolve(&r, "fleet-prod", now, &err), 0);
	assert_string_equal(now, d2);
	/* a manifest that is no plan */
	assert_int_equal(mg_rollout_read(&r, T1, pub, &q, &err) != 0, 1);
	mg_repo_close(&r);
	mg_ref_free(ref);
	mg_store_free(st);
}

/* A device's status as modelgate-device publishes it. */
static void add(mg_rollout_tally *t, const mg_rollout_plan *p, const char *dev, const char *digest,
		const char *health, const char *rejected, const char *plan, const char *proven,
		const char *hw, const char *why)
{
	char s[2048];
	snprintf(s, sizeof(s), "{\"fleet\":\"kws-prod\",\"device\":\"%s\",\"labels\":{\"hw\":\"%s\"},"
		 "\"digest\":\"%s\",\"health\":\"%s\",\"rejected\":%s%s%s,\"plan\":\"%s\","
		 "\"proven_at\":\"%s\",\"rejected_reason\":\"%s\"}", dev, hw, digest, health,
		 rejected ? "\"" : "", rejected ? rejected : "null", rejected ? "\"" : "", plan, proven,
		 why);
	mg_error err = {0};
	assert_int_equal(mg_rollout_tally_add(t, p, PD, s, strlen(s), &err), 0);
}

static void test_the_controller_waits_advances_halts_and_finishes(void **state)
{
	(void)state;
	mg_rollout_plan p;
	plan_init(&p);
	/* 40 devices; those of stage 1 (5%) */
	char ids[40][16];
	size_t canary[40], nc = 0;
	for (int i = 0; i < 40; i++) {
		snprintf(ids[i], sizeof(ids[i]), "d%02d", i);
		if (mg_rollout_stage_of(&p, mg_rollout_cohort(p.salt, ids[i])) == 0)
			canary[nc++] = (size_t)i;
	}
	/* the salt is chosen so that a few of 40 are canaries: find one that is */
	for (unsigned s = 0; nc < 2 || nc > 6; s++) {
		snprintf(p.salt, sizeof(p.salt), "%032x", s);
		nc = 0;
		for (int i = 0; i < 40; i++)
			if (mg_rollout_stage_of(&p, mg_rollout_cohort(p.salt, ids[i])) == 0)
				canary[nc++] = (size_t)i;
	}
	mg_rollout_tally t;
	char why[1024];
	/* nobody has it yet: wait, naming who */
	mg_rollout_tally_init(&t, &p);
	for (int i = 0; i < 40; i++)
		add(&t, &p, ids[i], T0, "pass", NULL, "", "2026-01-01T00:00:00Z", "new", "");
	assert_int_equal(t.targeted, nc);
	assert_int_equal(mg_rollout_decide(&p, &t, p.stage_started + 10, why, sizeof(why)), MG_STEP_WAIT);
	assert_non_null(strstr(why, ids[canary[0]]));
	/* every canary healthy: wait out min-healthy-time, then advance */
	mg_rollout_tally_free(&t);
	mg_rollout_tally_init(&t, &p);
	for (int i = 0; i < 40; i++) {
		int c = mg_rollout_stage_of(&p, mg_rollout_cohort(p.salt, ids[i])) == 0;
		add(&t, &p, ids[i], c ? T1 : T0, "pass", NULL, PD, c ? "2025-11-24T16:10:00Z" : "", "new",
		    "");
	}
	assert_int_equal(t.healthy, nc);
	int64_t proven = 1764000600; /* 2025-11-24T16:10:00Z */
	assert_int_equal(t.healthy_since, proven);
	assert_int_equal(mg_rollout_decide(&p, &t, proven + 599, why, sizeof(why)), MG_STEP_WAIT);
	assert_non_null(strstr(why, "healthy for 599s"));
	assert_int_equal(mg_rollout_decide(&p, &t, proven + 600, why, sizeof(why)), MG_STEP_ADVANCE);
	/* one canary failed (hw=old): more than 2% of the targeted: halt, grouped */
	mg_rollout_tally_free(&t);
	mg_rollout_tally_init(&t, &p);
	for (int i = 0; i < 40; i++) {
		int c = mg_rollout_stage_of(&p, mg_rollout_cohort(p.salt, ids[i])) == 0;
		int bad = c && (size_t)i == canary[0];
		add(&t, &p, ids[i], c && !bad ? T1 : T0, bad ? "fail" : "pass", bad ? T1 : NULL, PD,
		    "2025-11-24T16:10:00Z", bad ? "old" : "new",
		    bad ? "the smoke check's median latency 3.41 ms is above the limit 1.00 ms" : "");
	}
	assert_int_equal(t.failed, 1);
	assert_int_equal(mg_rollout_decide(&p, &t, proven + 9999, why, sizeof(why)), MG_STEP_HALT);
	assert_non_null(strstr(why, "1 of"));
	assert_int_equal(t.nreasons, 1);
	assert_string_equal(t.reasons[0].what,
			    "the smoke check's median latency # ms is above the limit # ms");
	int found = 0;
	for (size_t i = 0; i < t.nlabels; i++)
		if (!strcmp(t.labels[i].what, "hw=old"))
			found = t.labels[i].failed == 1 && t.labels[i].devices == 1;
	assert_true(found);
	/* the last stage healthy: finish; a halted plan: nothing more */
	p.stage = 2;
	p.min_healthy_time = 0;
	mg_rollout_tally_free(&t);
	mg_rollout_tally_init(&t, &p);
	for (int i = 0; i < 40; i++)
		add(&t, &p, ids[i], T1, "pass", NULL, PD, "2025-11-24T16:10:00Z", "new", "");
	assert_int_equal(mg_rollout_decide(&p, &t, proven, why, sizeof(why)), MG_STEP_FINISH);
	p.state = MG_ROLLOUT_HALTED;
	assert_int_equal(mg_rollout_decide(&p, &t, proven, why, sizeof(why)), MG_STEP_STOPPED);
	/* another fleet's status is not counted */
	mg_error err = {0};
	const char *s = "{\"fleet\":\"other\",\"device\":\"x\"}";
	assert_int_equal(mg_rollout_tally_add(&t, &p, PD, s, strlen(s), &err), MG_ECORRUPT);
	mg_rollout_tally_free(&t);
}

/* A label with a value per device (a serial number) takes as many groups
 * as there are devices; the label the failures share still counts all of
 * its devices, and the tables show the most failed labels first. */
static void test_labels_of_every_device_are_kept_and_the_failing_ones_shown_first(void **state)
{
	(void)state;
	mg_rollout_plan p;
	plan_init(&p);
	p.stage = p.nstages - 1; /* every device is targeted */
	mg_rollout_tally t;
	mg_rollout_tally_init(&t, &p);
	mg_error err = {0};
	size_t old = 0;
	for (int i = 0; i < 300; i++) {
		int bad = i % 10 == 9;
		old += bad;
		char s[1024];
		snprintf(s, sizeof(s), "{\"fleet\":\"kws-prod\",\"device\":\"d%03d\",\"labels\":"
			 "{\"serial\":\"SN%05d\",\"hw\":\"%s\"},\"digest\":\"%s\",\"health\":\"%s\","
			 "\"rejected\":%s,\"plan\":\"%s\",\"rejected_reason\":\"frame %d dropped\"}", i,
			 i * 7, bad ? "old" : "new", bad ? T0 : T1, bad ? "fail" : "pass",
			 bad ? "\"" T1 "\"" : "null", PD, i);
		assert_int_equal(mg_rollout_tally_add(&t, &p, PD, s, strlen(s), &err), 0);
	}
	assert_int_equal(t.nlabels, 300 + 2);
	assert_int_equal(t.nreasons, 1);
	int found = 0;
	for (size_t i = 0; i < t.nlabels; i++)
		if (!strcmp(t.labels[i].what, "hw=old"))
			found = t.labels[i].failed == old && t.labels[i].devices == old;
	assert_true(found);
	mg_buf out = MG_BUF_INIT;
	char why[256];
	mg_rollout_step step = mg_rollout_decide(&p, &t, p.stage_started, why, sizeof(why));
	assert_int_equal(step, MG_STEP_HALT);
	assert_int_equal(mg_rollout_view(&out, MG_ROLLOUT_TEXT, &p, PD, &t, step, why, &err), 0);
	const char *v = mg_buf_cstr(&out);
	/* hw=old (30 failed) comes first; 31 labels failed: 20 shown */
	const char *labels = strstr(v, "Failures by label");
	assert_non_null(labels);
	assert_non_null(strstr(labels, "hw=old"));
	assert_true(strstr(labels, "hw=old") < strstr(labels, "serial="));
	assert_non_null(strstr(labels, "and 11 more labels (--json lists them all)"));
	assert_null(strstr(labels, "hw=new"));
	mg_buf_free(&out);
	mg_rollout_tally_free(&t);
}

/* Once a rollout is halted, a device that saw it and went back to the
 * previous release is counted back, not still updating. */
static void test_devices_back_on_the_previous_release_after_a_halt_count_as_back(void **state)
{
	(void)state;
	mg_rollout_plan p;
	plan_init(&p);
	p.stage = p.nstages - 1;
	mg_rollout_tally t;
	for (int halted = 0; halted < 2; halted++) {
		p.state = halted ? MG_ROLLOUT_HALTED : MG_ROLLOUT_RUNNING;
		mg_rollout_tally_init(&t, &p);
		add(&t, &p, "d1", T0, "pass", NULL, PD, "", "new", "");
		size_t s = mg_rollout_stage_of(&p, mg_rollout_cohort(p.salt, "d1"));
		assert_int_equal(t.stage[s].back, (size_t)halted);
		assert_int_equal(t.stage[s].updating, (size_t)!halted);
		mg_buf out = MG_BUF_INIT;
		mg_error err = {0};
		assert_int_equal(mg_rollout_view(&out, MG_ROLLOUT_MARKDOWN, &p, PD, &t, MG_STEP_STOPPED,
						 "halted", &err), 0);
		assert_int_equal(strstr(mg_buf_cstr(&out), "| back |") != NULL, halted);
		mg_buf_free(&out);
		mg_rollout_tally_free(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stages_and_durations_parse_or_say_why),
		cmocka_unit_test(test_plan_json_goes_both_ways_and_refuses_damage),
		cmocka_unit_test(test_cohorts_are_fixed_spread_and_salted),
		cmocka_unit_test(test_a_device_gets_the_target_once_its_stage_is_out),
		cmocka_unit_test(test_a_signed_plan_moves_the_tag_only_from_where_it_was_read),
		cmocka_unit_test(test_the_controller_waits_advances_halts_and_finishes),
		cmocka_unit_test(test_labels_of_every_device_are_kept_and_the_failing_ones_shown_first),
		cmocka_unit_test(test_devices_back_on_the_previous_release_after_a_halt_count_as_back),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
