/*
 * mime_dump.c - test driver: parses each e-mail file named on the command line and
 * prints its MIME structure, decoded Subject, From domain and the TLS report parts
 * found (type, file name, decoded size, gzip or not, how it was found).
 *
 *   mime_dump FILE...
 *
 * Exit status 0 when every file parsed and had a report, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mail/mime.h"
#include "util/file.h"
#include "util/buf.h"
#include "util/err.h"

int
main(int argc, char **argv)
{
	int status = 0;
	for (int a = 1; a < argc; a++) {
		struct buf raw, subj;
		struct mime_msg m;
		struct err e = { 0 };
		buf_init(&raw, 64u << 20);
		buf_init(&subj, 4096);
		if (file_read(argv[a], &raw, NULL) != 0) {
			fprintf(stderr, "%s: cannot read\n", argv[a]);
			return 2;
		}
		printf("%s\n", argv[a]);
		if (mime_parse(&m, buf_span(&raw), NULL, &e) != 0) {
			printf("  error: %s\n", e.msg);
			status = 1;
		} else {
			char dom[256];
			for (size_t i = 0; i < m.nparts; i++)
				printf("  part %zu depth %u %s%s cte=%d body=%zu\n", i,
				       m.parts[i].depth, m.parts[i].type,
				       m.parts[i].container ? " (container)" : "",
				       (int)m.parts[i].cte, m.parts[i].body.len);
			if (mime_subject(&m, &subj) == 0)
				printf("  subject: %s\n", buf_cstr(&subj));
			if (mime_from_domain(&m, dom, sizeof dom) == 0)
				printf("  from-domain: %s\n", dom);
			struct mime_report *r;
			size_t n;
			if (mime_find_reports(&m, 25u << 20, &r, &n, &e) != 0) {
				printf("  reports: %s\n", e.msg);
				status = 1;
			} else {
				for (size_t i = 0; i < n; i++)
					printf("  report part=%zu type=%s filename=%s bytes=%zu "
					       "gzip=%d how=%d\n",
					       r[i].part, r[i].type, r[i].filename, r[i].data.len,
					       r[i].gzip, (int)r[i].how);
				mime_reports_free(r, n);
			}
		}
		mime_msg_clear(&m);
		buf_clear(&raw);
		buf_clear(&subj);
	}
	return status;
}
