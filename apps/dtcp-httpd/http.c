/* SPDX-License-Identifier: BSD-3-Clause */
/* The request head parser (http.h): RFC 9112 §2.2, §3, §5, §6 and §9.3. */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/* Content-Length values above this are refused: no GET needs more. */
#define CONTENT_LENGTH_MAX (1ull << 62)

/* RFC 9110 §5.6.2 tchar: "!#$%&'*+-.^_`|~", DIGIT, ALPHA. */
static inline bool
is_tchar(unsigned char ch)
{
	if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
		return true;
	switch (ch) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
	case '-': case '.': case '^': case '_': case '`': case '|': case '~':
		return true;
	default:
		return false;
	}
}

/* RFC 9110 §5.5: field-value octets are VCHAR, obs-text, SP and HTAB. */
static bool
is_field_octet(unsigned char ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

static bool
token_is(const char *p, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

/* RFC 9110 §9: the methods it defines that we do not serve. */
static enum http_method
method_of(const char *p, size_t n)
{
	static const char *const other[] = {
		"POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
	};

	/* Methods are case-sensitive (RFC 9110 §9.1). */
	if (n == 3 && memcmp(p, "GET", 3) == 0)
		return HTTP_GET;
	if (n == 4 && memcmp(p, "HEAD", 4) == 0)
		return HTTP_HEAD;
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (strlen(other[i]) == n && memcmp(p, other[i], n) == 0)
			return HTTP_OTHER;
	return HTTP_UNKNOWN;
}

/* RFC 9112 §3: method SP request-target SP HTTP-version, in [p, e). */
static int
request_line(const char *p, const char *e, struct http_request *r)
{
	const char *m = p, *t;

	while (p < e && is_tchar((unsigned char)*p))
		p++;
	if (p == m || p == e || *p != ' ')
		return HTTP_ERR_BAD;
	r->method = method_of(m, (size_t)(p - m));
	t = ++p;
	while (p < e && (unsigned char)*p > 0x20 && *p != 0x7f)
		p++;
	if (p == t || p == e || *p != ' ')
		return HTTP_ERR_BAD;
	p++;
	/* RFC 9112 §2.3: "HTTP/" DIGIT "." DIGIT, case-sensitive. */
	if (e - p != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' ||
	    p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return HTTP_ERR_BAD;
	if (p[5] != '1')
		return HTTP_ERR_VERSION;
	r->minor = (uint8_t)(p[7] - '0');
	return 0;
}

/* Connection's comma-separated options (RFC 9110 §7.6.1). */
static void
connection_options(const char *p, const char *e, bool *close, bool *keep_alive)
{
	while (p < e) {
		const char *s, *t;

		while (p < e && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		s = p;
		while (p < e && *p != ',')
			p++;
		t = p;
		while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if (token_is(s, (size_t)(t - s), "close"))
			*close = true;
		else if (token_is(s, (size_t)(t - s), "keep-alive"))
			*keep_alive = true;
	}
}

/* RFC 9112 §6.3: 1*DIGIT; a repeat must agree. */
static int
content_length(const char *p, const char *e, bool *seen, uint64_t *out)
{
	uint64_t v = 0;

	if (p == e)
		return HTTP_ERR_BAD;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9')
			return HTTP_ERR_BAD;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > CONTENT_LENGTH_MAX)
			return HTTP_ERR_BAD;
	}
	if (*seen && v != *out)
		return HTTP_ERR_BAD;
	*seen = true;
	*out = v;
	return 0;
}

int
http_parse(const char *buf, uint32_t len, uint32_t max, struct http_request *r)
{
	const char *p = buf, *end = buf + (len < max ? len : max);
	bool first = true, close = false, keep_alive = false, cl_seen = false, te = false;
	unsigned hosts = 0;
	int rc;

	r->content_length = 0;
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le, *colon, *v, *ve;

		if (nl == NULL)
			return len >= max ? HTTP_ERR_TOO_LARGE : HTTP_MORE;
		/* RFC 9112 §2.2: CRLF, or a bare LF, ends a line. */
		le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (first && le == p) {
			/* §2.2: empty lines before the request line are ignored. */
			p = nl + 1;
			continue;
		}
		if (first) {
			rc = request_line(p, le, r);
			if (rc != 0)
				return rc;
			first = false;
			p = nl + 1;
			continue;
		}
		if (le == p) {
			p = nl + 1;           /* the empty line: the end of the head */
			break;
		}
		/* §5.1: a field name, then a colon with no space before it; §5.2: no obs-fold. */
		colon = p;
		while (colon < le && is_tchar((unsigned char)*colon))
			colon++;
		if (colon == p || colon == le || *colon != ':')
			return HTTP_ERR_BAD;
		v = colon + 1;
		ve = le;
		for (const char *q = v; q < ve; q++)
			if (!is_field_octet((unsigned char)*q))
				return HTTP_ERR_BAD;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		switch (colon - p) {
		case 4:
			if (strncasecmp(p, "host", 4) == 0)
				hosts++;
			break;
		case 10:
			if (strncasecmp(p, "connection", 10) == 0)
				connection_options(v, ve, &close, &keep_alive);
			break;
		case 14:
			if (strncasecmp(p, "content-length", 14) == 0) {
				rc = content_length(v, ve, &cl_seen, &r->content_length);
				if (rc != 0)
					return rc;
			}
			break;
		case 17:
			if (strncasecmp(p, "transfer-encoding", 17) == 0)
				te = true;
			break;
		default:
			break;
		}
		p = nl + 1;
	}
	/* §3.2: an HTTP/1.1 request has exactly one Host field. */
	if (r->minor >= 1 && hosts != 1)
		return HTTP_ERR_BAD;
	if (hosts > 1)
		return HTTP_ERR_BAD;
	if (te)
		return HTTP_ERR_TE;
	r->keep_alive = r->minor >= 1 ? !close : keep_alive && !close;
	return (int)(p - buf);
}

int
http_parse_cached(struct http_head_cache *k, const char *buf, uint32_t len, uint32_t max,
		  struct http_request *r)
{
	int rc;

	/* The same bytes up to the empty line: http_parse() would read no further. */
	if (k->len != 0 && k->len <= len && k->len <= max && memcmp(buf, k->head, k->len) == 0) {
		k->hits++;
		*r = k->req;
		return (int)k->len;
	}
	rc = http_parse(buf, len, max, r);
	if (rc > 0 && rc <= HTTP_HEAD_CACHE) {
		memcpy(k->head, buf, (size_t)rc);
		k->len = (uint32_t)rc;
		k->req = *r;
	}
	return rc;
}
