/*
 * clock.c - injectable clock and UTC calendar arithmetic.  See clock.h.
 *
 * Calendar conversion uses the days-from-civil algorithm (era of 400 years) so no
 * libc time zone state is touched; RFC 3339 section 5.6 grammar for parsing.
 */
#include "util/clock.h"

#include <stdio.h>
#include <time.h>

void
clock_init_real(struct clock *c)
{
	c->kind = CLOCK_KIND_REAL;
	atomic_store(&c->fixed_ns, 0);
}

void
clock_init_fixed(struct clock *c, int64_t unix_seconds)
{
	c->kind = CLOCK_KIND_FIXED;
	atomic_store(&c->fixed_ns, unix_seconds * 1000000000LL);
}

void
clock_advance(struct clock *c, int64_t delta_seconds)
{
	if (c->kind == CLOCK_KIND_FIXED)
		atomic_fetch_add(&c->fixed_ns, delta_seconds * 1000000000LL);
}

void
clock_set(struct clock *c, int64_t unix_seconds)
{
	if (c->kind == CLOCK_KIND_FIXED)
		atomic_store(&c->fixed_ns, unix_seconds * 1000000000LL);
}

int64_t
clock_now_ns(const struct clock *c)
{
	struct timespec ts;

	if (c && c->kind == CLOCK_KIND_FIXED)
		return atomic_load(&((struct clock *)c)->fixed_ns);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t
clock_now(const struct clock *c)
{
	int64_t ns = clock_now_ns(c);

	/* floor division so that times before 1970 stay consistent */
	return ns >= 0 ? ns / 1000000000LL : -((-ns + 999999999LL) / 1000000000LL);
}

int64_t
clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t
time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

unsigned
time_weekday(int64_t t)
{
	int64_t days = floor_div(t, 86400);
	/* 1970-01-01 was a Thursday (3 when Monday is 0) */
	int64_t w = (days + 3) % 7;
	return (unsigned)(w < 0 ? w + 7 : w);
}

struct civil {
	int64_t y;
	unsigned mo, d, h, mi, s;
};

static void
civil_of(int64_t t, struct civil *c)
{
	int64_t days = floor_div(t, 86400);
	int64_t secs = t - days * 86400;

	time_civil_from_days(days, &c->y, &c->mo, &c->d);
	c->h = (unsigned)(secs / 3600);
	c->mi = (unsigned)(secs / 60 % 60);
	c->s = (unsigned)(secs % 60);
}

int
time_format_rfc3339(int64_t t, char out[TIME_RFC3339_LEN])
{
	struct civil c;

	civil_of(t, &c);
	if (c.y < 0 || c.y > 9999) {
		out[0] = '\0';
		return -1;
	}
	snprintf(out, TIME_RFC3339_LEN, "%04d-%02u-%02uT%02u:%02u:%02uZ", (int)c.y, c.mo, c.d, c.h,
	         c.mi, c.s);
	return 0;
}

int
time_format_rfc5322(int64_t t, char out[TIME_RFC5322_LEN])
{
	static const char days[7][4] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct civil c;

	civil_of(t, &c);
	if (c.y < 0 || c.y > 9999) {
		out[0] = '\0';
		return -1;
	}
	snprintf(out, TIME_RFC5322_LEN, "%s, %02u %s %04d %02u:%02u:%02u +0000",
	         days[time_weekday(t)], c.d, months[c.mo - 1], (int)c.y, c.h, c.mi, c.s);
	return 0;
}

/* Reads exactly n digits at s->p[*i]. */
static int
digits(struct span s, size_t *i, size_t n, unsigned *out)
{
	unsigned v = 0;

	if (s.len - *i < n)
		return -1;
	for (size_t k = 0; k < n; k++) {
		unsigned dgt = (unsigned char)s.p[*i + k] - '0';
		if (dgt > 9)
			return -1;
		v = v * 10 + dgt;
	}
	*i += n;
	*out = v;
	return 0;
}

static int
expect(struct span s, size_t *i, char c)
{
	if (*i >= s.len || s.p[*i] != c)
		return -1;
	(*i)++;
	return 0;
}

static bool
leap_year(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
time_parse_rfc3339(struct span s, unsigned flags, struct time_parsed *out)
{
	unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
	size_t i = 0;
	int32_t nanos = 0;
	int sign = 0;
	static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (digits(s, &i, 4, &y) || expect(s, &i, '-') || digits(s, &i, 2, &mo) ||
	    expect(s, &i, '-') || digits(s, &i, 2, &d))
		return -1;
	if (i >= s.len)
		return -1;
	if (s.p[i] == 'T' || s.p[i] == 't' || (s.p[i] == ' ' && (flags & TIME_PARSE_ALLOW_SPACE)))
		i++;
	else
		return -1;
	if (digits(s, &i, 2, &h) || expect(s, &i, ':') || digits(s, &i, 2, &mi) ||
	    expect(s, &i, ':') || digits(s, &i, 2, &sec))
		return -1;
	if (i < s.len && s.p[i] == '.') {
		size_t start = ++i;
		int32_t scale = 100000000;
		while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9') {
			nanos += (s.p[i] - '0') * scale;
			scale /= 10;
			i++;
		}
		if (i == start)
			return -1;
	}
	out->has_offset = true;
	if (i < s.len && (s.p[i] == 'Z' || s.p[i] == 'z')) {
		i++;
	} else if (i < s.len && (s.p[i] == '+' || s.p[i] == '-')) {
		sign = s.p[i] == '-' ? -1 : 1;
		i++;
		if (digits(s, &i, 2, &oh) || expect(s, &i, ':') || digits(s, &i, 2, &om))
			return -1;
		if (oh > 23 || om > 59)
			return -1;
	} else if (i == s.len && (flags & TIME_PARSE_ALLOW_NO_TZ)) {
		out->has_offset = false;
	} else {
		return -1;
	}
	if (i != s.len)
		return -1;
	if (mo < 1 || mo > 12 || d < 1)
		return -1;
	unsigned dim = mdays[mo - 1] + (mo == 2 && leap_year(y));
	if (d > dim || h > 23 || mi > 59 || sec > 60)
		return -1;
	out->leap_second = sec == 60;
	if (sec == 60)
		sec = 59;
	out->offset_min = sign * (int32_t)(oh * 60 + om);
	out->nanos = nanos;
	out->t = time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	         (int64_t)out->offset_min * 60;
	return 0;
}
