// SPDX-License-Identifier: BSD-3-Clause
// dtcp-httpd's request head parser (apps/dtcp-httpd/http.c), RFC 9112:
// lengths, methods, versions, persistence, Content-Length, the errors, and
// that it never reads past the bytes it is given (a guard page behind them).
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <string>

#include "../../apps/dtcp-httpd/http.h"

namespace {

// The bytes at the very end of a readable page, a PROT_NONE page behind:
// any read past them faults.
class Guarded {
public:
	Guarded()
	{
		page_ = (size_t)sysconf(_SC_PAGESIZE);
		size_ = 32 * page_;
		mem_ = (char *)mmap(nullptr, size_ + page_, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		EXPECT_NE(mem_, MAP_FAILED);
		EXPECT_EQ(mprotect(mem_ + size_, page_, PROT_NONE), 0);
	}
	~Guarded() { munmap(mem_, size_ + page_); }
	const char *put(const std::string &s)
	{
		EXPECT_LE(s.size(), size_);
		char *p = mem_ + size_ - s.size();
		memcpy(p, s.data(), s.size());
		return p;
	}

private:
	char *mem_;
	size_t page_, size_;
};

Guarded guard;

int parse(const std::string &s, http_request *r, uint32_t max = 8192)
{
	return http_parse(guard.put(s), (uint32_t)s.size(), max, r);
}

int parse(const std::string &s, uint32_t max = 8192)
{
	http_request r;
	return parse(s, &r, max);
}

const std::string kGet = "GET /index.html HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n";

TEST(HttpParse, Get11_WholeHead_LengthAndKeepAlive)
{
	http_request r;

	ASSERT_EQ(parse(kGet, &r), (int)kGet.size());
	EXPECT_EQ(r.method, HTTP_GET);
	EXPECT_EQ(r.minor, 1);
	EXPECT_TRUE(r.keep_alive);
	EXPECT_EQ(r.content_length, 0u);
}

TEST(HttpParse, EveryPrefix_NeedsMore)
{
	for (size_t n = 0; n < kGet.size(); n++)
		EXPECT_EQ(parse(kGet.substr(0, n)), HTTP_MORE) << "prefix of " << n;
}

TEST(HttpParse, Pipelined_FirstHeadOnly)
{
	std::string two = kGet + "HEAD / HTTP/1.1\r\nHost: y\r\n\r\n";
	http_request r;

	ASSERT_EQ(parse(two, &r), (int)kGet.size());
	EXPECT_EQ(r.method, HTTP_GET);
	ASSERT_EQ(parse(two.substr(kGet.size()), &r), (int)(two.size() - kGet.size()));
	EXPECT_EQ(r.method, HTTP_HEAD);
}

TEST(HttpParse, Persistence_Rfc9112_9_3)
{
	http_request r;

	ASSERT_GT(parse("GET / HTTP/1.0\r\n\r\n", &r), 0);
	EXPECT_FALSE(r.keep_alive);
	ASSERT_GT(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r), 0);
	EXPECT_TRUE(r.keep_alive);
	ASSERT_GT(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r), 0);
	EXPECT_FALSE(r.keep_alive);
	ASSERT_GT(parse("GET / HTTP/1.1\r\nHost: x\r\nconnection:  Upgrade , CLOSE \r\n\r\n", &r), 0);
	EXPECT_FALSE(r.keep_alive);
	ASSERT_GT(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", &r), 0);
	EXPECT_TRUE(r.keep_alive);
	// A later minor version is read as 1.1 (RFC 9110 §6.2).
	ASSERT_GT(parse("GET / HTTP/1.7\r\nHost: x\r\n\r\n", &r), 0);
	EXPECT_EQ(r.minor, 7);
	EXPECT_TRUE(r.keep_alive);
}

TEST(HttpParse, BareLfAndLeadingEmptyLines_Rfc9112_2_2)
{
	std::string lf = "GET / HTTP/1.1\nHost: x\n\n";
	std::string lead = "\r\n\r\n" + kGet;

	EXPECT_EQ(parse(lf), (int)lf.size());
	EXPECT_EQ(parse(lead), (int)lead.size());
}

TEST(HttpParse, Methods)
{
	http_request r;

	ASSERT_GT(parse("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
	EXPECT_EQ(r.method, HTTP_HEAD);
	for (const char *m : { "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH" }) {
		ASSERT_GT(parse(std::string(m) + " / HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0) << m;
		EXPECT_EQ(r.method, HTTP_OTHER) << m;
	}
	// Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET.
	for (const char *m : { "get", "BREW", "GETX" }) {
		ASSERT_GT(parse(std::string(m) + " / HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0) << m;
		EXPECT_EQ(r.method, HTTP_UNKNOWN) << m;
	}
}

TEST(HttpParse, ContentLength_Rfc9112_6_3)
{
	http_request r;

	ASSERT_GT(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", &r), 0);
	EXPECT_EQ(r.content_length, 5u);
	ASSERT_GT(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n"
			"content-length: 7\r\n\r\n", &r), 0);
	EXPECT_EQ(r.content_length, 7u);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n"
			"Content-Length: 8\r\n\r\n"), HTTP_ERR_BAD);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5a\r\n\r\n"), HTTP_ERR_BAD);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"), HTTP_ERR_BAD);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n"), HTTP_ERR_BAD);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: "
			"99999999999999999999999\r\n\r\n"), HTTP_ERR_BAD);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
		  HTTP_ERR_TE);
}

TEST(HttpParse, Host_Rfc9112_3_2)
{
	EXPECT_EQ(parse("GET / HTTP/1.1\r\n\r\n"), HTTP_ERR_BAD);
	EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), HTTP_ERR_BAD);
	EXPECT_GT(parse("GET / HTTP/1.0\r\n\r\n"), 0);
}

TEST(HttpParse, MalformedRequestLine_400)
{
	for (const char *s : {
		     "hello\r\n\r\n", " / HTTP/1.1\r\nHost: x\r\n\r\n",
		     "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
		     "GET /\r\nHost: x\r\n\r\n", "GET / http/1.1\r\nHost: x\r\n\r\n",
		     "GET / HTTP/1.1x\r\nHost: x\r\n\r\n", "GET / HTTP/1.\r\nHost: x\r\n\r\n",
		     "GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
	     })
		EXPECT_EQ(parse(s), HTTP_ERR_BAD) << s;
	EXPECT_EQ(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), HTTP_ERR_VERSION);
	EXPECT_EQ(parse("GET / HTTP/0.9\r\n\r\n"), HTTP_ERR_VERSION);
}

TEST(HttpParse, MalformedFields_400)
{
	for (const char *s : {
		     "GET / HTTP/1.1\r\nHost : x\r\n\r\n",          // space before the colon (§5.1)
		     "GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", // obs-fold (§5.2)
		     "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n",     // no name
		     "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
		     "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01z\r\n\r\n", // a control character
		     "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rz\r\n\r\n",   // a lone CR
	     })
		EXPECT_EQ(parse(s), HTTP_ERR_BAD) << s;
	// Tabs, obs-text and empty values are fine.
	EXPECT_GT(parse("GET / HTTP/1.1\r\nHost: x\r\nX-A:\t\xe9t\xe9\t\r\nX-B:\r\n\r\n"), 0);
}

TEST(HttpParse, MaxHeader_431AtTheBound)
{
	std::string pad = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ";
	std::string head = pad + std::string(300 - pad.size() - 4, 'p') + "\r\n\r\n";

	ASSERT_EQ(head.size(), 300u);
	EXPECT_EQ(parse(head, 300), 300);
	EXPECT_EQ(parse(head, 299), HTTP_ERR_TOO_LARGE);
	EXPECT_EQ(parse(head.substr(0, 299), 300), HTTP_MORE);
	EXPECT_EQ(parse(head.substr(0, 299), 299), HTTP_ERR_TOO_LARGE);
	EXPECT_EQ(parse(std::string(9000, 'a'), 8192), HTTP_ERR_TOO_LARGE);
}

// Random edits of valid heads, 20000 of them with a fixed seed: every
// answer is a length within the input, HTTP_MORE, or an error, and no
// byte past the input is read (the guard page would fault).
TEST(HttpParse, RandomEdits_BoundedAnswersNoOverread)
{
	const std::string seeds[] = {
		kGet, "GET / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc",
		"\r\nHEAD /x HTTP/1.1\nHost: h\n\n", "POST / HTTP/1.1\r\nHost: x\r\n\r\n",
	};
	const char alphabet[] = "\r\n :,\t\x01\x7f\x80GETHOSTPclose-keepalive0123456789/.";
	std::mt19937 rng(20261122);

	for (int i = 0; i < 20000; i++) {
		std::string s = seeds[rng() % 4];
		unsigned edits = 1 + rng() % 6;

		for (unsigned e = 0; e < edits && !s.empty(); e++) {
			size_t at = rng() % s.size();
			char ch = alphabet[rng() % (sizeof(alphabet) - 1)];

			switch (rng() % 3) {
			case 0: s[at] = ch; break;
			case 1: s.insert(s.begin() + (long)at, ch); break;
			default: s.erase(at, 1); break;
			}
		}
		uint32_t max = 16 + rng() % 128;
		http_request r;
		int rc = parse(s, &r, max);

		ASSERT_TRUE(rc == HTTP_MORE || rc == HTTP_ERR_BAD || rc == HTTP_ERR_TOO_LARGE ||
			    rc == HTTP_ERR_TE || rc == HTTP_ERR_VERSION ||
			    (rc > 0 && (uint32_t)rc <= s.size() && (uint32_t)rc <= max))
			<< "rc " << rc << " for " << testing::PrintToString(s);
		if (rc == HTTP_MORE) {
			ASSERT_LT(s.size(), max);
		}
	}
}


// ---- The cache of the last head (http_parse_cached) ----

int parse_cached(http_head_cache *k, const std::string &s, http_request *r, uint32_t max = 8192)
{
	return http_parse_cached(k, guard.put(s), (uint32_t)s.size(), max, r);
}

void expect_same(const http_request &a, const http_request &b)
{
	EXPECT_EQ(a.method, b.method);
	EXPECT_EQ(a.minor, b.minor);
	EXPECT_EQ(a.keep_alive, b.keep_alive);
	EXPECT_EQ(a.content_length, b.content_length);
}

TEST(HttpParseCached, SameHeadAgain_OneHitSameAnswer)
{
	http_head_cache k{};
	http_request r1, r2;

	ASSERT_EQ(parse_cached(&k, kGet, &r1), (int)kGet.size());
	EXPECT_EQ(k.hits, 0u);
	EXPECT_EQ(k.len, kGet.size());
	ASSERT_EQ(parse_cached(&k, kGet, &r2), (int)kGet.size());
	EXPECT_EQ(k.hits, 1u);
	expect_same(r1, r2);
	EXPECT_EQ(r2.method, HTTP_GET);
	EXPECT_TRUE(r2.keep_alive);
}

TEST(HttpParseCached, HeadSplit_EveryPrefixNeedsMoreThenWholeHits)
{
	http_head_cache k{};
	http_request r;

	ASSERT_EQ(parse_cached(&k, kGet, &r), (int)kGet.size());
	for (size_t n = 0; n < kGet.size(); n++)
		EXPECT_EQ(parse_cached(&k, kGet.substr(0, n), &r), HTTP_MORE) << "prefix of " << n;
	EXPECT_EQ(k.hits, 0u);
	// A prefix taught nothing: the whole head still hits.
	EXPECT_EQ(k.len, kGet.size());
	ASSERT_EQ(parse_cached(&k, kGet, &r), (int)kGet.size());
	EXPECT_EQ(k.hits, 1u);
}

TEST(HttpParseCached, OneByteDifferent_FullParseAndLearned)
{
	const std::string ka = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	std::string other = ka;
	http_head_cache k{};
	http_request r;

	ASSERT_EQ(parse_cached(&k, ka, &r), (int)ka.size());
	EXPECT_FALSE(r.keep_alive);
	// "clase" is no option we know: persistent, a different answer for one byte.
	other[other.find("close") + 2] = 'a';
	ASSERT_EQ(parse_cached(&k, other, &r), (int)other.size());
	EXPECT_EQ(k.hits, 0u);
	EXPECT_TRUE(r.keep_alive);
	// Now the other is the cached one.
	ASSERT_EQ(parse_cached(&k, other, &r), (int)other.size());
	EXPECT_EQ(k.hits, 1u);
	EXPECT_TRUE(r.keep_alive);
	ASSERT_EQ(parse_cached(&k, ka, &r), (int)ka.size());
	EXPECT_EQ(k.hits, 1u);
	EXPECT_FALSE(r.keep_alive);
}

TEST(HttpParseCached, DifferentHead_AndBadHeadsNotLearned)
{
	const std::string head = "HEAD /a HTTP/1.0\r\nContent-Length: 7\r\n\r\n";
	const std::string bad = "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n";
	http_head_cache k{};
	http_request r;

	ASSERT_EQ(parse_cached(&k, kGet, &r), (int)kGet.size());
	ASSERT_EQ(parse_cached(&k, head, &r), (int)head.size());
	EXPECT_EQ(r.method, HTTP_HEAD);
	EXPECT_EQ(r.minor, 0);
	EXPECT_FALSE(r.keep_alive);
	EXPECT_EQ(r.content_length, 7u);
	EXPECT_EQ(parse_cached(&k, bad, &r), HTTP_ERR_BAD);
	EXPECT_EQ(parse_cached(&k, bad, &r), HTTP_ERR_BAD);
	EXPECT_EQ(k.hits, 0u);
	EXPECT_EQ(k.len, head.size());
}

TEST(HttpParseCached, Pipelined_EachHeadHitsInTurn)
{
	const std::string three = kGet + kGet + kGet + "GET /x";
	http_head_cache k{};
	http_request r;
	size_t at = 0;

	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(parse_cached(&k, three.substr(at), &r), (int)kGet.size()) << i;
		EXPECT_EQ(r.method, HTTP_GET);
		at += kGet.size();
	}
	EXPECT_EQ(k.hits, 2u);
	EXPECT_EQ(parse_cached(&k, three.substr(at), &r), HTTP_MORE);
}

TEST(HttpParseCached, MaxBelowCachedLength_TooLarge)
{
	http_head_cache k{};
	http_request r;

	ASSERT_EQ(parse_cached(&k, kGet, &r), (int)kGet.size());
	EXPECT_EQ(parse_cached(&k, kGet, &r, (uint32_t)kGet.size() - 1), HTTP_ERR_TOO_LARGE);
	EXPECT_EQ(k.hits, 0u);
}

TEST(HttpParseCached, HeadLongerThanTheCache_ParsedNeverCached)
{
	const std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " +
				std::string(HTTP_HEAD_CACHE, 'p') + "\r\n\r\n";
	http_head_cache k{};
	http_request r;

	for (int i = 0; i < 2; i++)
		ASSERT_EQ(parse_cached(&k, big, &r), (int)big.size());
	EXPECT_EQ(k.len, 0u);
	EXPECT_EQ(k.hits, 0u);
}

// The cache changes no answer: random edits of a few heads, each parsed
// with one cache that lives across all of them and without, agree.
TEST(HttpParseCached, RandomEdits_SameAnswersAsTheParser)
{
	const std::string seeds[] = {
		kGet, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"HEAD / HTTP/1.0\r\nContent-Length: 3\r\n\r\n",
	};
	std::mt19937 rng(20261122);
	http_head_cache k{};
	uint64_t hits_seen = 0;

	for (int i = 0; i < 20000; i++) {
		std::string s = seeds[rng() % 3];
		unsigned edits = rng() % 3; // 0: the seed again, a hit

		for (unsigned e = 0; e < edits && !s.empty(); e++)
			s[rng() % s.size()] = "\r\n :eE1x"[rng() % 9];
		if (rng() % 4 == 0)
			s = s.substr(0, rng() % (s.size() + 1));
		uint32_t max = rng() % 8 == 0 ? 16 + rng() % 64 : 8192;
		http_request a{}, b{};
		int ra = parse(s, &a, max), rb = parse_cached(&k, s, &b, max);

		ASSERT_EQ(ra, rb) << testing::PrintToString(s);
		if (ra > 0)
			expect_same(a, b);
	}
	hits_seen = k.hits;
	EXPECT_GT(hits_seen, 1000u);
}

} // namespace
