/*
 * dockerignore.c - .dockerignore reading and matching with Docker's exact
 * semantics (moby/patternmatcher and ignorefile; see dockerignore.h).
 *
 * Docker turns each pattern into a Go regexp. We compile it instead into a
 * small linear automaton and run it as an NFA over the path bytes, so a
 * hostile pattern costs O(pattern x path) and never backtracks. The shape of
 * that automaton follows patternmatcher's translation, quirks included:
 *
 *   - a pattern is one of four kinds, decided as patternmatcher decides:
 *     exact (plain text), prefix ("abc**": any path starting with "abc"),
 *     suffix (leading "**" and nothing special after: any path ending with
 *     the rest; "**" + "/x" also matches "x") and regexp (everything else).
 *     Only the regexp kind treats '\n' specially: its "**" cannot cross a
 *     newline, as Go's '.' cannot;
 *   - "**" anywhere but at the end is "(any text ending in a slash)?",
 *     so "a**b" matches "ab" and "a/x/b" but not "axb";
 *   - a bare '^' in a regexp-kind pattern stays a regexp anchor ("x^*"
 *     never matches), while in the other kinds it is a literal character.
 *
 * Where the regexp translation would produce something no glob user could
 * mean, we keep Go filepath.Match's meaning and say so here: '*' and '?'
 * inside a class are plain members, and '\' before a letter, digit or
 * non-ASCII character escapes it literally (Docker hands "\d" to the regexp
 * engine as a digit class, and rejects "\q" at match time).
 *
 * Syntax is checked in full when the file is read, with filepath.Match's
 * rules. Docker checks a pattern only as far as matching it against "."
 * reads it and leaves the rest to its regexp compiler, at match time; so
 * the few malformed patterns it lets through after a '*' (a trailing '\',
 * a class opening with ']') are errors here, and the rest fail earlier.
 *
 * This file does not walk directories or read Dockerfiles.
 */
#include "slipway/dockerignore.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "slipway/path.h"

enum op {
	OP_LIT,       /* one byte equal to .byte */
	OP_STAR,      /* any bytes but '/' (self-loop), or skip */
	OP_QMARK,     /* one rune that is not '/' */
	OP_CLASS,     /* one rune in (or, negated, not in) class .cls */
	OP_DSTAR_OPT, /* entry of "**" mid-pattern: skip it, or enter OP_DSTAR_IN */
	OP_DSTAR_IN,  /* any bytes (self-loop), leaves on a '/' */
	OP_DOTSTAR,   /* any bytes (self-loop), or skip */
	OP_ANCHOR,    /* passes only at the start of the path */
	OP_MATCH,     /* accept */
};

struct tok {
	uint8_t op;
	bool nl;       /* DSTAR_IN / DOTSTAR: may cross '\n' */
	unsigned char byte;
	uint32_t cls;
};

struct range {
	uint32_t lo, hi;
};

struct cls {
	bool neg;
	size_t first, n; /* into pattern.ranges */
};

struct pattern {
	char *text;      /* cleaned, without '!', NUL-terminated */
	size_t len;      /* may hold NUL bytes: len, not strlen */
	bool exception;
	int line;
	struct tok *toks;
	size_t ntoks;
	struct range *ranges;
	size_t nranges;
	struct cls *classes;
	size_t nclasses;
};

struct sw_ignore {
	struct pattern *pats;
	size_t n;
	bool exceptions;
};

/* ---- UTF-8 and Go's white space ---- */

#define RUNE_ERROR 0xFFFDu

/* Decodes one rune as Go's utf8.DecodeRune: invalid input is RUNE_ERROR
 * with width 1. n > 0. */
static uint32_t decode_rune(const unsigned char *s, size_t n, size_t *width)
{
	uint32_t c = s[0];
	size_t need;
	uint32_t r, min;

	*width = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1; r = c & 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2; r = c & 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3; r = c & 0x07; min = 0x10000;
	} else {
		return RUNE_ERROR;
	}
	if (n < need + 1)
		return RUNE_ERROR;
	for (size_t i = 1; i <= need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return RUNE_ERROR;
		r = (r << 6) | (s[i] & 0x3F);
	}
	if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		return RUNE_ERROR;
	*width = need + 1;
	return r;
}

/* unicode.IsSpace */
static bool is_space_rune(uint32_t r)
{
	switch (r) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202F: case 0x205F: case 0x3000:
		return true;
	default:
		return r >= 0x2000 && r <= 0x200A;
	}
}

/* strings.TrimSpace on [*s, *s + *n). */
static void trim_space(const char **s, size_t *n)
{
	const unsigned char *p = (const unsigned char *)*s;
	size_t len = *n, w;

	while (len > 0 && is_space_rune(decode_rune(p, len, &w))) {
		p += w;
		len -= w;
	}
	while (len > 0) {
		/* the last rune starts at the last non-continuation byte (at
		 * most 4 back); decode from there as DecodeLastRune does */
		size_t start = len - 1, lim = len >= 4 ? len - 4 : 0;
		while (start > lim && (p[start] & 0xC0) == 0x80)
			start--;
		uint32_t r = decode_rune(p + start, len - start, &w);
		if (start + w != len) {
			r = RUNE_ERROR;
			start = len - 1;
		}
		if (!is_space_rune(r))
			break;
		len = start;
	}
	*s = (const char *)p;
	*n = len;
}

/* ---- pattern syntax (Go filepath.Match's rules) ---- */

/* One class element as Go's getEsc. On error returns a reason. */
static const char *class_elem(const unsigned char *p, size_t n, size_t *i, uint32_t *r)
{
	size_t w;

	if (*i >= n)
		return "unterminated character class";
	if (p[*i] == '-' || p[*i] == ']')
		return "bad range in character class";
	if (p[*i] == '\\') {
		(*i)++;
		if (*i >= n)
			return "unterminated character class";
	}
	*r = decode_rune(p + *i, n - *i, &w);
	if (*r == RUNE_ERROR && w == 1)
		return "invalid utf-8 in character class";
	*i += w;
	if (*i >= n)
		return "unterminated character class";
	return NULL;
}

/* Parses the class whose '[' is at p[*i]; appends to pat when pat is not
 * NULL, else only checks. Leaves *i after the ']'. */
static const char *parse_class(const unsigned char *p, size_t n, size_t *i, struct pattern *pat)
{
	bool neg = false;
	size_t nrange = 0, first = pat ? pat->nranges : 0;

	(*i)++;
	if (*i < n && p[*i] == '^') {
		neg = true;
		(*i)++;
	}
	for (;;) {
		uint32_t lo, hi;
		const char *why;

		if (*i < n && p[*i] == ']' && nrange > 0) {
			(*i)++;
			break;
		}
		if (*i < n && p[*i] == ']')
			return "empty character class";
		if ((why = class_elem(p, n, i, &lo)) != NULL)
			return why;
		hi = lo;
		if (p[*i] == '-') {
			(*i)++;
			if ((why = class_elem(p, n, i, &hi)) != NULL)
				return why;
		}
		if (pat) {
			pat->ranges = sw_xreallocarray(pat->ranges, pat->nranges + 1, sizeof(*pat->ranges));
			pat->ranges[pat->nranges++] = (struct range){ lo, hi };
		}
		nrange++;
	}
	if (pat) {
		pat->classes = sw_xreallocarray(pat->classes, pat->nclasses + 1, sizeof(*pat->classes));
		pat->classes[pat->nclasses++] = (struct cls){ neg, first, nrange };
	}
	return NULL;
}

/* filepath.Match(pattern, ".") reports ErrBadPattern exactly when this
 * returns a reason: a malformed class or a trailing '\'. */
static const char *check_syntax(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (p[i] == '\\') {
			if (i + 1 >= n)
				return "trailing backslash";
			i += 2;
		} else if (p[i] == '[') {
			const char *why = parse_class(p, n, &i, NULL);
			if (why)
				return why;
		} else {
			i++;
		}
	}
	return NULL;
}

/* ---- compiling ---- */

enum kind { K_EXACT, K_PREFIX, K_SUFFIX, K_REGEXP };

/* Characters patternmatcher escapes when building its regexp. */
static bool regexp_quoted(unsigned char c)
{
	return c && strchr(".+()|{}$", c) != NULL;
}

/* The kind patternmatcher's compile() would pick. */
static enum kind pattern_kind(const unsigned char *p, size_t n)
{
	enum kind k = K_EXACT;
	size_t i = 0;

	for (size_t iter = 0; i < n; iter++) {
		unsigned char c = p[i++];

		if (c == '*') {
			if (i < n && p[i] == '*') {
				i++;
				if (i < n && p[i] == '/')
					i++;
				if (i == n)
					k = k == K_EXACT ? K_PREFIX : K_REGEXP;
				else
					k = K_REGEXP;
				if (iter == 0)
					k = K_SUFFIX;
			} else {
				k = K_REGEXP;
			}
		} else if (c == '?') {
			k = K_REGEXP;
		} else if (regexp_quoted(c)) {
			/* literal either way */
		} else if (c == '\\') {
			if (i < n) {
				i++;
				k = K_REGEXP;
			}
		} else if (c == '[' || c == ']') {
			k = K_REGEXP;
		}
	}
	return k;
}

static void emit(struct pattern *pat, size_t *cap, struct tok t)
{
	if (pat->ntoks == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		pat->toks = sw_xreallocarray(pat->toks, *cap, sizeof(*pat->toks));
	}
	pat->toks[pat->ntoks++] = t;
}

static void emit_lits(struct pattern *pat, size_t *cap, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		emit(pat, cap, (struct tok){ .op = OP_LIT, .byte = s[i] });
}

/* Builds pat->toks from pat->text, which has passed check_syntax. */
static void compile(struct pattern *pat)
{
	const unsigned char *p = (const unsigned char *)pat->text;
	size_t n = pat->len, cap = 0, i = 0;

	switch (pattern_kind(p, n)) {
	case K_EXACT:
		emit_lits(pat, &cap, p, n);
		break;
	case K_PREFIX: /* "abc**": starts with "abc" */
		emit_lits(pat, &cap, p, n - 2);
		emit(pat, &cap, (struct tok){ .op = OP_DOTSTAR, .nl = true });
		break;
	case K_SUFFIX: /* "**xyz": ends with "xyz"; a suffix "/x" also matches "x" */
		if (n > 2 && p[2] == '/') {
			emit(pat, &cap, (struct tok){ .op = OP_DSTAR_OPT });
			emit(pat, &cap, (struct tok){ .op = OP_DSTAR_IN, .nl = true });
			emit_lits(pat, &cap, p + 3, n - 3);
		} else {
			emit(pat, &cap, (struct tok){ .op = OP_DOTSTAR, .nl = true });
			emit_lits(pat, &cap, p + 2, n - 2);
		}
		break;
	case K_REGEXP:
		while (i < n) {
			unsigned char c = p[i];
			size_t w;

			if (c == '*' && i + 1 < n && p[i + 1] == '*') {
				i += 2;
				if (i < n && p[i] == '/')
					i++;
				if (i == n) {
					emit(pat, &cap, (struct tok){ .op = OP_DOTSTAR });
				} else {
					emit(pat, &cap, (struct tok){ .op = OP_DSTAR_OPT });
					emit(pat, &cap, (struct tok){ .op = OP_DSTAR_IN });
				}
			} else if (c == '*') {
				emit(pat, &cap, (struct tok){ .op = OP_STAR });
				i++;
			} else if (c == '?') {
				emit(pat, &cap, (struct tok){ .op = OP_QMARK });
				i++;
			} else if (c == '\\') {
				/* check_syntax guarantees a next byte */
				i++;
				decode_rune(p + i, n - i, &w);
				emit_lits(pat, &cap, p + i, w);
				i += w;
			} else if (c == '[') {
				uint32_t idx = (uint32_t)pat->nclasses;
				parse_class(p, n, &i, pat);
				emit(pat, &cap, (struct tok){ .op = OP_CLASS, .cls = idx });
			} else if (c == '^') {
				emit(pat, &cap, (struct tok){ .op = OP_ANCHOR });
				i++;
			} else {
				emit(pat, &cap, (struct tok){ .op = OP_LIT, .byte = c });
				i++;
			}
		}
		break;
	}
	emit(pat, &cap, (struct tok){ .op = OP_MATCH });
}

/* ---- running ---- */

#define RING 5 /* a transition moves at most 4 bytes (one rune) */

struct run {
	size_t words;      /* per row */
	uint64_t *rows;    /* RING rows */
	uint64_t buf[RING * 4];
};

static uint64_t *row_at(struct run *r, size_t pos)
{
	return r->rows + (pos % RING) * r->words;
}

static void set_bit(uint64_t *row, size_t s)
{
	row[s / 64] |= (uint64_t)1 << (s % 64);
}

/* Adds the states reachable without input; targets are always later
 * states, so one forward sweep (re-reading each word) is enough. */
static void closure(const struct pattern *pat, uint64_t *row, size_t words, size_t pos)
{
	for (size_t wi = 0; wi < words; wi++) {
		uint64_t seen = 0, x;

		while ((x = row[wi] & ~seen) != 0) {
			unsigned b = (unsigned)__builtin_ctzll(x);
			size_t s = wi * 64 + b;

			seen |= (uint64_t)1 << b;
			switch (pat->toks[s].op) {
			case OP_STAR:
			case OP_DOTSTAR:
				set_bit(row, s + 1);
				break;
			case OP_DSTAR_OPT:
				set_bit(row, s + 1);
				set_bit(row, s + 2);
				break;
			case OP_ANCHOR:
				if (pos == 0)
					set_bit(row, s + 1);
				break;
			default:
				break;
			}
		}
	}
}

static bool class_has(const struct pattern *pat, uint32_t idx, uint32_t r)
{
	const struct cls *c = &pat->classes[idx];
	bool in = false;

	for (size_t i = 0; i < c->n && !in; i++) {
		const struct range *rg = &pat->ranges[c->first + i];
		in = rg->lo <= r && r <= rg->hi;
	}
	return in != c->neg;
}

enum run_mode {
	RUN_MATCH,       /* the path or one of its parent dirs matches */
	RUN_CAN_EXTEND,  /* some non-empty continuation of the input matches */
};

static bool run_pattern(const struct pattern *pat, const char *path, size_t n, enum run_mode mode)
{
	const unsigned char *s = (const unsigned char *)path;
	struct run r;
	size_t nst = pat->ntoks, last = 0;
	bool result = false;

	r.words = (nst + 63) / 64;
	r.rows = r.words * RING <= sizeof(r.buf) / sizeof(r.buf[0]) ? r.buf
		: sw_xcalloc(r.words * RING, sizeof(uint64_t));
	memset(r.rows, 0, r.words * RING * sizeof(uint64_t));
	set_bit(row_at(&r, 0), 0);

	for (size_t pos = 0; pos <= n && pos <= last; pos++) {
		uint64_t *row = row_at(&r, pos);

		closure(pat, row, r.words, pos);
		bool accept = (row[(nst - 1) / 64] >> ((nst - 1) % 64)) & 1;
		if (pos == n) {
			if (mode == RUN_MATCH) {
				result = accept;
			} else {
				/* anything alive but the accept state can consume more */
				row[(nst - 1) / 64] &= ~((uint64_t)1 << ((nst - 1) % 64));
				for (size_t wi = 0; wi < r.words && !result; wi++)
					result = row[wi] != 0;
			}
			break;
		}
		if (mode == RUN_MATCH && accept && s[pos] == '/') {
			result = true; /* a parent directory matches */
			break;
		}

		size_t w = 1;
		uint32_t rune = decode_rune(s + pos, n - pos, &w);
		for (size_t wi = 0; wi < r.words; wi++) {
			uint64_t x = row[wi];

			while (x) {
				unsigned b = (unsigned)__builtin_ctzll(x);
				size_t st = wi * 64 + b;
				const struct tok *t = &pat->toks[st];
				size_t to = 0, adv = 1;
				bool go = false;

				x &= x - 1;
				switch (t->op) {
				case OP_LIT:
					go = s[pos] == t->byte;
					to = st + 1;
					break;
				case OP_STAR:
					go = s[pos] != '/';
					to = st;
					break;
				case OP_QMARK:
					go = rune != '/';
					to = st + 1;
					adv = w;
					break;
				case OP_CLASS:
					go = class_has(pat, t->cls, rune);
					to = st + 1;
					adv = w;
					break;
				case OP_DSTAR_IN:
					if (s[pos] == '/') {
						set_bit(row_at(&r, pos + 1), st + 1);
						if (pos + 1 > last)
							last = pos + 1;
					}
					go = t->nl || s[pos] != '\n';
					to = st;
					break;
				case OP_DOTSTAR:
					go = t->nl || s[pos] != '\n';
					to = st;
					break;
				default:
					break;
				}
				if (go) {
					set_bit(row_at(&r, pos + adv), to);
					if (pos + adv > last)
						last = pos + adv;
				}
			}
		}
		memset(row, 0, r.words * sizeof(uint64_t));
	}
	if (r.rows != r.buf)
		free(r.rows);
	return result;
}

/* ---- public ---- */

static void pattern_release(struct pattern *p)
{
	free(p->text);
	free(p->toks);
	free(p->ranges);
	free(p->classes);
}

void sw_ignore_free(sw_ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++)
		pattern_release(&ig->pats[i]);
	free(ig->pats);
	free(ig);
}

static void ignore_freep(sw_ignore **ig)
{
	sw_ignore_free(*ig);
}
#define cleanup_ignore __attribute__((cleanup(ignore_freep)))

/* One line after comment and BOM handling: ignorefile.ReadAll, then
 * patternmatcher.New. Adds a pattern, skips, or fails. */
static int add_line(sw_ignore *ig, const char *what, int line, const char *s, size_t n,
                    sw_error **err)
{
	cleanup_free char *joined = NULL;
	cleanup_free char *cleaned = NULL;
	size_t jlen = 0, clen;
	bool invert;

	/* ignorefile: trim, clean the part after '!', drop one leading '/' */
	trim_space(&s, &n);
	if (n == 0)
		return 0;
	invert = s[0] == '!';
	if (invert) {
		s++;
		n--;
		trim_space(&s, &n);
	}
	joined = sw_xmalloc(n + 3);
	if (invert)
		joined[jlen++] = '!';
	if (n > 0) {
		size_t l;
		cleanup_free char *c = sw_path_cleann(s, n, &l);
		const char *cp = c;
		if (l > 1 && cp[0] == '/') {
			cp++;
			l--;
		}
		memcpy(joined + jlen, cp, l);
		jlen += l;
	}
	joined[jlen] = '\0';

	/* patternmatcher.New: trim and clean again, then split off '!' */
	s = joined;
	n = jlen;
	trim_space(&s, &n);
	if (n == 0)
		return 0;
	cleaned = sw_path_cleann(s, n, &clen);
	const char *body = cleaned;
	bool exception = false;
	if (cleaned[0] == '!') {
		if (clen == 1)
			return sw_error_set(err, SW_EINVALID, "%s:%d: illegal exclusion pattern: \"!\"",
			                    what, line);
		exception = true;
		body++;
		clen--;
	}
	const char *why = check_syntax((const unsigned char *)body, clen);
	if (why)
		return sw_error_set(err, SW_EINVALID, "%s:%d: bad pattern \"%s\": %s",
		                    what, line, body, why);
	if (ig->n >= SW_IGNORE_MAX_PATTERNS)
		return sw_error_set(err, SW_ETOOBIG, "%s:%d: more than %u patterns", what, line,
		                    (unsigned)SW_IGNORE_MAX_PATTERNS);

	ig->pats = sw_xreallocarray(ig->pats, ig->n + 1, sizeof(*ig->pats));
	struct pattern *pat = &ig->pats[ig->n++];
	memset(pat, 0, sizeof(*pat));
	pat->text = sw_xmalloc(clen + 1);
	memcpy(pat->text, body, clen); /* may hold NUL bytes: no strndup */
	pat->text[clen] = '\0';
	pat->len = clen;
	pat->exception = exception;
	pat->line = line;
	compile(pat);
	if (exception)
		ig->exceptions = true;
	return 0;
}

int sw_ignore_parse(sw_ignore **out, const char *what, const char *data, size_t len,
                    sw_error **err)
{
	cleanup_ignore sw_ignore *ig = sw_xcalloc(1, sizeof(*ig));
	size_t off = 0;
	int line = 0;

	if (!what)
		what = ".dockerignore";
	if (len > SW_IGNORE_MAX_FILE)
		return sw_error_set(err, SW_ETOOBIG, "%s: larger than %u bytes", what,
		                    (unsigned)SW_IGNORE_MAX_FILE);
	while (off < len) {
		const char *s = data + off;
		const char *nl = memchr(s, '\n', len - off);
		size_t n = nl ? (size_t)(nl - s) : len - off;

		off += n + (nl ? 1 : 0);
		line++;
		if (n > SW_IGNORE_MAX_LINE)
			return sw_error_set(err, SW_ETOOBIG, "%s:%d: line longer than %u bytes",
			                    what, line, (unsigned)SW_IGNORE_MAX_LINE);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (line == 1 && n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
			s += 3;
			n -= 3;
		}
		if (n > 0 && s[0] == '#')
			continue;
		int r = add_line(ig, what, line, s, n, err);
		if (r < 0)
			return r;
	}
	*out = steal_pointer(&ig);
	return 0;
}

int sw_ignore_load(sw_ignore **out, const char *path, sw_error **err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	sw_error *e = NULL;

	if (!path)
		return sw_ignore_parse(out, ".dockerignore", "", 0, err);
	if (sw_read_file(&data, &len, path, SW_IGNORE_MAX_FILE, &e) < 0) {
		if (sw_error_code(e) == SW_ENOTFOUND) {
			sw_error_free(e);
			return sw_ignore_parse(out, path, "", 0, err);
		}
		int code = sw_error_code(e);
		if (err) {
			*err = e;
			sw_error_wrap(err, "reading ignore file");
		} else {
			sw_error_free(e);
		}
		return code;
	}
	return sw_ignore_parse(out, path, data, len, err);
}

/* Cleans relpath for matching; NULL when it leaves the context. */
static char *clean_rel(const char *relpath, size_t *n)
{
	char *c = sw_path_cleann(relpath, strlen(relpath), n);

	if (c[0] == '/' || !strcmp(c, "..") || !strncmp(c, "../", 3)) {
		free(c);
		return NULL;
	}
	return c;
}

int sw_ignore_match(const sw_ignore *ig, const char *relpath, bool *excluded, sw_error **err)
{
	cleanup_free char *path = NULL;
	size_t n;
	bool matched = false;

	*excluded = false;
	if (!(path = clean_rel(relpath, &n)))
		return sw_error_set(err, SW_EESCAPE, "path %s is outside the build context", relpath);
	if (!strcmp(path, "."))
		return 0;
	for (size_t i = 0; i < ig->n; i++) {
		const struct pattern *p = &ig->pats[i];

		/* last match wins: a pattern that cannot change the answer
		 * need not run */
		if (p->exception != matched)
			continue;
		if (run_pattern(p, path, n, RUN_MATCH))
			matched = !p->exception;
	}
	*excluded = matched;
	return 0;
}

bool sw_ignore_dir_may_have_exceptions(const sw_ignore *ig, const char *reldir)
{
	cleanup_free char *dir = NULL;
	cleanup_free char *slash = NULL;
	size_t n;
	size_t first = 0;

	if (!ig->exceptions)
		return false;
	if (!(dir = clean_rel(reldir, &n)))
		return true;
	if (!strcmp(dir, "."))
		return true;
	/* patterns up to the last one matching dir apply to its whole subtree
	 * and are overridden by that one */
	for (size_t i = ig->n; i > 0; i--) {
		if (run_pattern(&ig->pats[i - 1], dir, n, RUN_MATCH)) {
			first = i;
			break;
		}
	}
	slash = sw_xmalloc(n + 2);
	memcpy(slash, dir, n);
	slash[n] = '/';
	slash[n + 1] = '\0';
	for (size_t i = first; i < ig->n; i++) {
		if (ig->pats[i].exception && run_pattern(&ig->pats[i], slash, n + 1, RUN_CAN_EXTEND))
			return true;
	}
	return false;
}

size_t sw_ignore_count(const sw_ignore *ig)
{
	return ig->n;
}

bool sw_ignore_has_exceptions(const sw_ignore *ig)
{
	return ig->exceptions;
}

const char *sw_ignore_pattern(const sw_ignore *ig, size_t i, bool *exception)
{
	if (i >= ig->n)
		return NULL;
	if (exception)
		*exception = ig->pats[i].exception;
	return ig->pats[i].text;
}

/* 1 if path names something (not a folder), 0 if nothing, <0 on error. */
static int file_exists(const char *path, sw_error **err)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return sw_error_set_errno(err, errno, "stat %s", path);
	}
	if (S_ISDIR(st.st_mode))
		return sw_error_set(err, SW_EINVALID, "%s: is a directory, not an ignore file", path);
	return 1;
}

int sw_ignore_choose(char **out_path, const char *context_dir, const char *dockerfile_path,
                     sw_error **err)
{
	cleanup_free char *p = NULL;
	int r;

	*out_path = NULL;
	if (dockerfile_path && *dockerfile_path) {
		p = sw_xasprintf("%s.dockerignore", dockerfile_path);
		if ((r = file_exists(p, err)) < 0)
			return r;
		if (r) {
			*out_path = steal_pointer(&p);
			return 0;
		}
		free(steal_pointer(&p));
	}
	p = sw_xasprintf("%s/.dockerignore", context_dir && *context_dir ? context_dir : ".");
	if ((r = file_exists(p, err)) < 0)
		return r;
	if (r)
		*out_path = steal_pointer(&p);
	return 0;
}
