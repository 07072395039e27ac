/*
 * dockerignore.h - .dockerignore files: which paths of a build context are
 * left out of it.
 *
 * The semantics are those of Docker (moby/patternmatcher and its ignorefile
 * reader), so an existing .dockerignore means the same thing here:
 *
 *   - one pattern a line; lines starting with '#' are comments; surrounding
 *     white space is trimmed; blank lines are skipped; a UTF-8 BOM and CRLF
 *     line ends are accepted
 *   - each pattern is cleaned like Go's filepath.Clean ("a/./b/" -> "a/b",
 *     "a/../b" -> "b") and a leading '/' is dropped ("/a" == "a")
 *   - Go filepath.Match globs: '*' and '?' never match '/', classes
 *     "[a-z]" and "[^a-z]" ("[!a]" is a class of '!' and 'a', as in Go),
 *     '\' escapes the next character
 *   - "**" matches any number of directories, zero included: "**" then
 *     "/x" matches x at any depth; "a/" then "**" matches all below a
 *   - a pattern that matches a directory excludes everything below it
 *   - "!pattern" re-includes what it matches; the last matching pattern wins
 *
 * Paths given to the matcher are relative to the context root and
 * '/'-separated. This module only decides; it does not walk the tree.
 */
#ifndef SLIPWAY_DOCKERIGNORE_H
#define SLIPWAY_DOCKERIGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "slipway/error.h"

/* Limits on hostile input; exceeding one is a clear SW_ETOOBIG error. */
#define SW_IGNORE_MAX_FILE (16u * 1024 * 1024) /* whole file */
#define SW_IGNORE_MAX_LINE (64u * 1024)        /* one line, as Go's bufio.Scanner */
#define SW_IGNORE_MAX_PATTERNS 100000

typedef struct sw_ignore sw_ignore;

/*
 * Parses .dockerignore text. what names the source in messages ("FILE");
 * errors read "FILE:LINE: bad pattern \"[a\": ...". A matcher with no
 * patterns excludes nothing.
 */
int sw_ignore_parse(sw_ignore **out, const char *what, const char *data,
                    size_t len, sw_error **err);

/* Reads and parses the file at path. A missing file (or a NULL path) gives
 * an empty matcher, as Docker treats a context without .dockerignore. */
int sw_ignore_load(sw_ignore **out, const char *path, sw_error **err);

/*
 * Decides whether relpath (relative to the context, '/'-separated, cleaned
 * here) is excluded: it or one of its parent directories matches a pattern
 * and no later "!" pattern re-includes it (patternmatcher's
 * MatchesOrParentMatches). The context root itself ("", ".") is never
 * excluded. A path that climbs out of the context ("../x") or is absolute
 * after cleaning is refused with SW_EESCAPE.
 */
int sw_ignore_match(const sw_ignore *ig, const char *relpath, bool *excluded,
                    sw_error **err);

/*
 * For a context walker standing on an excluded directory: returns true if a
 * "!" pattern that comes after the last pattern matching reldir (or one of
 * its parents) could match some path below reldir, in which case the walker
 * must still descend; false means the whole subtree is excluded and may be
 * skipped without looking. The answer may be a conservative true (it never
 * wrongly says false).
 */
bool sw_ignore_dir_may_have_exceptions(const sw_ignore *ig, const char *reldir);

/* Number of patterns, and whether any is a "!" exception. */
size_t sw_ignore_count(const sw_ignore *ig);
bool sw_ignore_has_exceptions(const sw_ignore *ig);

/* The i-th pattern as cleaned (without its '!'), and whether it is an
 * exception; for listings and messages. */
const char *sw_ignore_pattern(const sw_ignore *ig, size_t i, bool *exception);

void sw_ignore_free(sw_ignore *ig);

/*
 * Chooses the ignore file for a build, as BuildKit does: when dockerfile_path
 * is given and "<dockerfile_path>.dockerignore" exists beside it, that file;
 * otherwise "<context_dir>/.dockerignore" if it exists; otherwise *out_path
 * is set to NULL (nothing is ignored). *out_path is allocated.
 */
int sw_ignore_choose(char **out_path, const char *context_dir,
                     const char *dockerfile_path, sw_error **err);

#endif
