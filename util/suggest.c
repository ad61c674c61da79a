/* "Did you mean": the known word closest to a misspelled one, so that an
 * error about an unknown config key, option or command can name the one the
 * user probably meant. Closeness is the edit distance (insertions,
 * deletions, substitutions and swaps of neighbours, each one edit). */
#include "util.h"

#include <stdint.h>
#include <string.h>

/* Edit distance of a and b, or a number above max once it exceeds max. */
static size_t distance(const char *a, const char *b, size_t max)
{
	enum { LONGEST = 64 };
	size_t la = strlen(a), lb = strlen(b);
	if (la > LONGEST || lb > LONGEST)
		return max + 1;
	size_t d[LONGEST + 1][LONGEST + 1];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

size_t mg_nearness(const char *word, const char *name)
{
	/* a third of the word's length, at least one edit, at most three; and
	 * fewer edits than half of name ("gx" is not "gc") */
	size_t len = strlen(word), max = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
	size_t d = distance(word, name, max);
	return d <= max && 2 * d < strlen(name) ? d : SIZE_MAX;
}

const char *mg_closest(const char *word, const char *const *known)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	for (; *known; known++) {
		size_t d = mg_nearness(word, *known);
		if (d < best_d) {
			best = *known;
			best_d = d;
		}
	}
	return best;
}
