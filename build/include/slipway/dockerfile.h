/*
 * dockerfile.h - the Dockerfile front end: parse, expand, plan.
 *
 * Three layers, as in Docker's own front end:
 *   1. sw_df_parse(): text -> syntax tree (sw_df_file). Directives, comments,
 *      continuations, heredocs, JSON/exec form, per-instruction argument
 *      splitting. No variable expansion. sw_df_dump() prints the tree in the
 *      S-expression form of Docker's parser test dumps.
 *   2. sw_df_plan(): syntax tree + build args + target -> stages with typed,
 *      expanded instructions, ARG/ENV scoping, stage references resolved,
 *      stages not needed for the target pruned.
 *   3. (build/, later) the executor runs a plan.
 *
 * Line numbers are 1-based and refer to the original file.
 */
#ifndef SLIPWAY_DOCKERFILE_H
#define SLIPWAY_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "slipway/error.h"

/* Limits on hostile input; exceeding one is a clear SW_ETOOBIG error. */
#define SW_DF_MAX_FILE (16u * 1024 * 1024)  /* whole Dockerfile */
#define SW_DF_MAX_LINE (1u * 1024 * 1024)   /* one logical line */
#define SW_DF_MAX_INSTRUCTIONS 100000
#define SW_DF_MAX_HEREDOCS 1000             /* per instruction */

/* One heredoc body attached to an instruction (RUN/COPY/ADD <<EOF). */
typedef struct sw_df_heredoc {
	char *name;     /* the delimiter word, without quotes or '-' */
	char *content;  /* the body lines as in the file (line endings kept, no
	                 * tab stripping yet: that is the instruction layer's) */
	bool expand;    /* false when the delimiter was quoted */
	bool chomp;     /* <<- : leading tabs stripped */
	unsigned long fd; /* 2<<EOF: the file descriptor, 0 when not given */
} sw_df_heredoc;

/*
 * One instruction. args are the arguments as Docker's parser splits them for
 * that keyword (for ENV/LABEL/ARG name=value forms: triples of key, value and
 * separator, "" for the legacy `ENV k v` form and "=" otherwise; see
 * sw_df_dump for the exact shape). For ONBUILD, `sub` is the nested
 * instruction and args is empty.
 */
typedef struct sw_df_instr {
	char *keyword;        /* lower case: "from", "run", ... */
	char *original;       /* the logical line as written, continuations joined */
	char **flags;         /* "--from=build", in order */
	size_t nflags;
	char **args;
	size_t nargs;
	bool json;            /* exec (JSON array) form */
	struct sw_df_instr *sub;  /* ONBUILD's trigger (same lines as its parent) */
	sw_df_heredoc *heredocs;
	size_t nheredocs;
	int start_line;
	int end_line;
	char **comments;      /* comment lines above it as Docker keeps them
	                       * (PrevComment: a bare "#" resets the list, blank
	                       * lines do not, directives are left out) */
	size_t ncomments;
} sw_df_instr;

typedef struct sw_df_file {
	char *path;           /* as given, for messages */
	char escape;          /* '\\' or '`' */
	char *syntax;         /* # syntax= value or NULL */
	char *check;          /* # check= value or NULL */
	sw_df_instr *instrs;
	size_t ninstrs;
	char **warnings;      /* "FILE:LINE: Empty continuation line found in: ..." */
	size_t nwarnings;
} sw_df_file;

/*
 * Parses a Dockerfile held in memory. path is used only in messages. On a
 * syntax error returns SW_EINVALID with the message "PATH:LINE:COL: what".
 */
int sw_df_parse(sw_df_file **out, const char *path, const char *data,
                size_t len, sw_error **err);

enum sw_df_parse_flags {
	/* keep instructions Docker does not know (as Docker's parser does,
	 * with one empty argument) instead of failing with "unknown
	 * instruction: X" as docker build does */
	SW_DF_PARSE_ALLOW_UNKNOWN = 1 << 0,
};
/* sw_df_parse with a mask of enum sw_df_parse_flags. */
int sw_df_parse_ex(sw_df_file **out, const char *path, const char *data,
                   size_t len, unsigned flags, sw_error **err);
int sw_df_parse_file(sw_df_file **out, const char *path, sw_error **err);
void sw_df_file_free(sw_df_file *f);

/* One instruction in the S-expression dump form, without a newline; caller
 * frees. */
char *sw_df_dump_instr(const sw_df_instr *in);
/* The whole file, one line per instruction, each ending in "\n". */
char *sw_df_dump(const sw_df_file *f);
/* The structured syntax tree as JSON text (caller frees). */
char *sw_df_dump_json(const sw_df_file *f);

#endif
