/*
 * replay.c - runs a libFuzzer harness over files without libFuzzer, as a TAP test.
 *
 *   replay_<target> DIR-or-FILE...
 *
 * Every file is passed once to LLVMFuzzerTestOneInput(); a crash or sanitizer report
 * ends the process (and so fails the test).  Prints one TAP line per directory or
 * file argument with the number of inputs replayed.  `make test` runs this over
 * tests/fuzz/corpus/<target>/ for every harness, so each corpus is exercised on every
 * run, also under SAN=asan.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0;

	if (f == NULL)
		return -1;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			uint8_t *n = realloc(data, cap);
			if (n == NULL) {
				free(data);
				fclose(f);
				return -1;
			}
			data = n;
		}
		size_t k = fread(data + len, 1, cap - len, f);
		if (k == 0)
			break;
		len += k;
	}
	fclose(f);
	/* libFuzzer never passes NULL; give the harness a valid pointer for len 0 */
	LLVMFuzzerTestOneInput(data ? data : (const uint8_t *)"", len);
	free(data);
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	int failures = 0;

	printf("1..%d\n", argc - 1);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		size_t n = 0;
		int bad = 0;

		if (stat(argv[i], &st) != 0) {
			printf("not ok %d - %s: cannot stat\n", i, argv[i]);
			failures++;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *e;
			char **names = NULL;
			size_t count = 0;

			while (d && (e = readdir(d)) != NULL) {
				if (e->d_name[0] == '.')
					continue;
				names = realloc(names, (count + 1) * sizeof(*names));
				names[count++] = strdup(e->d_name);
			}
			if (d)
				closedir(d);
			if (count)
				qsort(names, count, sizeof(*names), cmp);
			for (size_t k = 0; k < count; k++) {
				char path[4096];
				snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]);
				if (replay_file(path) == 0)
					n++;
				else
					bad++;
				free(names[k]);
			}
			free(names);
		} else {
			if (replay_file(argv[i]) == 0)
				n++;
			else
				bad++;
		}
		if (bad || n == 0) {
			printf("not ok %d - %s: %zu replayed, %d unreadable\n", i, argv[i], n, bad);
			failures++;
		} else {
			printf("ok %d - %s: %zu inputs replayed\n", i, argv[i], n);
		}
	}
	return failures ? 1 : 0;
}
