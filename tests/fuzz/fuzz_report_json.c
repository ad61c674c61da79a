/* Fuzz target: reading a report.json never crashes, and a report it accepts
 * goes through every writer, and writes back to JSON that reads back to the
 * same JSON (the round trip is stable). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "validator/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/fuzz-report-%ld.json", (long)getpid());
	if (fuzz_write_file(path, data, size))
		return 0;
	mg_report *r = NULL, *back = NULL;
	mg_buf a = MG_BUF_INIT, b = MG_BUF_INIT, scratch = MG_BUF_INIT;
	if (mg_report_read_json(&r, path, NULL) == 0) {
		mg_report_write_table(&scratch, r, 1, NULL);
		mg_report_write_junit(&scratch, r, NULL);
		mg_report_write_markdown(&scratch, r, 4096, NULL);
		mg_report_write_annotations(&scratch, r, 3, NULL);
		mg_report_write_github_outputs(&scratch, r, NULL);
		mg_report_write_openmetrics(&scratch, r, NULL);
		mg_report_write_html(&scratch, r, NULL);
		if (mg_report_write_json(&a, r, NULL) == 0 && fuzz_write_file(path, a.data, a.len) == 0) {
			if (mg_report_read_json(&back, path, NULL) || mg_report_write_json(&b, back, NULL) ||
			    strcmp(mg_buf_cstr(&a), mg_buf_cstr(&b)))
				abort();
		}
	}
	unlink(path);
	mg_report_free(r);
	mg_report_free(back);
	mg_buf_free(&a);
	mg_buf_free(&b);
	mg_buf_free(&scratch);
	return 0;
}
