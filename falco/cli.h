/* SPDX-License-Identifier: Apache-2.0 */
/*
 * falco's command line, parsed with getopt_long into a plain struct. Options follow upstream falco where they
 * exist (-c, -o, -r, -V, -L, -l, --list, -M, -U, -P, --enable-source/--disable-source ...) plus a few of our own
 * (-e FILE replay, -T/-t/-D rule selection, -w reserved for capture writing). Parsing never logs or prints:
 * errors come back in an error buffer and main decides what to print.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable list of borrowed argv strings (never copied: argv lives as long as the process). */
struct cli_list {
	const char **v;
	size_t n;
};

struct cli_opts {
	bool help;
	bool version;
	bool verbose;		   /* -v */
	bool dry_run;		   /* --dry-run */
	bool check_driver;	   /* --check-driver */
	bool unbuffered;	   /* -U: buffered_outputs=false */
	bool names_only;	   /* -N (with --list) */
	bool list_fields;	   /* --list[=SOURCE] */
	const char *list_source;   /* NULL = every source */
	bool list_events;	   /* --list-events */
	bool describe_all;	   /* -L */
	const char *describe_rule; /* -l RULE */

	const char *config_path;   /* -c; NULL = SYSCONFDIR/falco/falco.yaml if it exists */
	struct cli_list overrides; /* -o key=value, in order */
	struct cli_list rules;	   /* -r: replaces rules_files when not empty */
	struct cli_list validate;  /* -V */

	const char
		*replay_file; /* -e: a k8s audit JSON-lines file (later also a syscall capture) */
	int64_t duration_s;   /* -M: stop after this many seconds; -1 = run until told to stop */
	struct cli_list disable_tags;	 /* -T */
	struct cli_list enable_tags;	 /* -t */
	struct cli_list disable_rules;	 /* -D (name wildcard) */
	struct cli_list enable_sources;	 /* --enable-source */
	struct cli_list disable_sources; /* --disable-source */

	const char *pidfile;	 /* -P */
	const char *capture_out; /* -w: reserved for the syscall source (capture writing) */
	int64_t page_size; /* --page-size: ring-buffer size hint for the syscall source; 0 = default */
};

/*
 * Parses argv into *ret (which cli_parse initialises). Returns 0, or -EINVAL with a one-line message in errbuf
 * ("unknown option '--foo'", "-M needs a non-negative number of seconds, got 'x'", ...), or -ENOMEM.
 * Resets getopt's state first, so it may be called more than once (tests). Does not log or print.
 * Strings in *ret point into argv. Free the lists with cli_opts_done().
 */
int cli_parse(int argc, char **argv, struct cli_opts *ret, char *errbuf, size_t errlen);
void cli_opts_done(struct cli_opts *o);

/* The --help text (static, borrowed). */
const char *cli_help_text(void);
