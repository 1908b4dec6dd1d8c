/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "cli.h"

/* Long-only options get codes above the byte range. */
enum {
	OPT_LIST = 0x100,
	OPT_LIST_EVENTS,
	OPT_VERSION,
	OPT_DRY_RUN,
	OPT_ENABLE_SOURCE,
	OPT_DISABLE_SOURCE,
	OPT_PAGE_SIZE,
	OPT_CHECK_DRIVER,
};

static const char short_opts[] = ":hc:o:r:V:Ll:Ne:M:T:t:D:UP:vw:";

static const struct option long_opts[] = {
	{"help", no_argument, NULL, 'h'},
	{"option", required_argument, NULL, 'o'},
	{"validate", required_argument, NULL, 'V'},
	{"unbuffered", no_argument, NULL, 'U'},
	{"pidfile", required_argument, NULL, 'P'},
	{"list", optional_argument, NULL, OPT_LIST},
	{"list-events", no_argument, NULL, OPT_LIST_EVENTS},
	{"version", no_argument, NULL, OPT_VERSION},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"enable-source", required_argument, NULL, OPT_ENABLE_SOURCE},
	{"disable-source", required_argument, NULL, OPT_DISABLE_SOURCE},
	{"page-size", required_argument, NULL, OPT_PAGE_SIZE},
	{"check-driver", no_argument, NULL, OPT_CHECK_DRIVER},
	{NULL, 0, NULL, 0},
};

static const char help_text[] =
	"Usage: falco [OPTION...]\n"
	"Falco-compatible runtime security: evaluates syscall and Kubernetes audit events against Falco rules.\n"
	"\n"
	"  -h, --help                  Print this help and exit.\n"
	"  -c FILE                     Configuration file (default " SYSCONFDIR
	"/falco/falco.yaml if present,\n"
	"                              else built-in defaults).\n"
	"  -o, --option KEY=VALUE      Override a configuration key: dot paths (a.b.c), list indexes (a[0].b),\n"
	"                              appends (rules[].disable.rule=X); '\\' escapes '.', '[', ']' and '='.\n"
	"                              A VALUE starting with '[' or '{' is parsed as YAML. Repeatable.\n"
	"  -r FILE|DIR                 Rules file or directory; repeatable; replaces rules_files.\n"
	"  -V, --validate FILE         Validate a rules file (with json_output: JSON load results) and exit;\n"
	"                              repeatable; exit status 1 if any file has errors.\n"
	"  -L                          Describe every loaded rule (JSON with json_output) and exit.\n"
	"  -l RULE                     Describe one rule and exit.\n"
	"      --list[=SOURCE]         List the fields of every (or one) event source and exit.\n"
	"  -N                          With --list: field names only.\n"
	"      --list-events           List the event types of every source and exit.\n"
	"  -e FILE                     Replay FILE (Kubernetes audit events, one JSON document per line) instead\n"
	"                              of live sources; exits when the file ends.\n"
	"  -M SECONDS                  Stop after SECONDS.\n"
	"  -T TAG                      Disable rules with TAG; repeatable.\n"
	"  -t TAG                      Enable only rules with TAG (then -D applies); repeatable; not with -T.\n"
	"  -D PATTERN                  Disable rules whose name contains PATTERN, or matches it when it has\n"
	"                              * or ? wildcards; repeatable.\n"
	"      --enable-source SRC     Enable only SRC (syscall, k8s_audit); repeatable.\n"
	"      --disable-source SRC    Disable SRC; repeatable; not with --enable-source.\n"
	"  -U, --unbuffered            Write every alert as soon as it is formatted (buffered_outputs=false).\n"
	"  -P, --pidfile FILE          Write the process id to FILE; removed on exit.\n"
	"  -w FILE                     Write captured syscall events to FILE (syscall source).\n"
	"      --page-size BYTES       Ring buffer size hint for the syscall source.\n"
	"      --dry-run               Load configuration and rules, then exit without opening sources.\n"
	"      --check-driver          Load and attach the modern eBPF probe, detach it and exit: 0 when this\n"
	"                              kernel and these privileges can run it, 1 (with the reason) otherwise.\n"
	"  -v                          Verbose: more detail in rule load messages.\n"
	"      --version               Print version information and exit.\n";

const char *cli_help_text(void)
{
	return help_text;
}

static int list_add(struct cli_list *l, const char *s)
{
	const char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	l->v = nv;
	l->v[l->n++] = s;
	return 0;
}

static void list_done(struct cli_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void cli_opts_done(struct cli_opts *o)
{
	if (!o)
		return;
	list_done(&o->overrides);
	list_done(&o->rules);
	list_done(&o->validate);
	list_done(&o->disable_tags);
	list_done(&o->enable_tags);
	list_done(&o->disable_rules);
	list_done(&o->enable_sources);
	list_done(&o->disable_sources);
}

static int parse_nonneg(const char *s, int64_t *ret)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno == ERANGE || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int cli_parse(int argc, char **argv, struct cli_opts *ret, char *errbuf, size_t errlen)
{
	struct cli_opts o = {.duration_s = -1};
	int r = 0, c;

	/* optind = 0 makes glibc re-initialise getopt completely (tests parse several command lines) */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			o.help = true;
			break;
		case 'c':
			o.config_path = optarg;
			break;
		case 'o':
			if (!strchr(optarg, '='))
				r = errf(errbuf, errlen, -EINVAL, "-o needs KEY=VALUE, got '%s'",
					 optarg);
			else
				r = list_add(&o.overrides, optarg);
			break;
		case 'r':
			r = list_add(&o.rules, optarg);
			break;
		case 'V':
			r = list_add(&o.validate, optarg);
			break;
		case 'L':
			o.describe_all = true;
			break;
		case 'l':
			o.describe_rule = optarg;
			break;
		case 'N':
			o.names_only = true;
			break;
		case 'e':
			o.replay_file = optarg;
			break;
		case 'M':
			if (parse_nonneg(optarg, &o.duration_s) < 0)
				r = errf(errbuf, errlen, -EINVAL,
					 "-M needs a non-negative number of seconds, got '%s'",
					 optarg);
			break;
		case 'T':
			r = list_add(&o.disable_tags, optarg);
			break;
		case 't':
			r = list_add(&o.enable_tags, optarg);
			break;
		case 'D':
			r = list_add(&o.disable_rules, optarg);
			break;
		case 'U':
			o.unbuffered = true;
			break;
		case 'P':
			o.pidfile = optarg;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'w':
			o.capture_out = optarg;
			break;
		case OPT_LIST:
			o.list_fields = true;
			o.list_source = optarg;
			break;
		case OPT_LIST_EVENTS:
			o.list_events = true;
			break;
		case OPT_VERSION:
			o.version = true;
			break;
		case OPT_DRY_RUN:
			o.dry_run = true;
			break;
		case OPT_CHECK_DRIVER:
			o.check_driver = true;
			break;
		case OPT_ENABLE_SOURCE:
			r = list_add(&o.enable_sources, optarg);
			break;
		case OPT_DISABLE_SOURCE:
			r = list_add(&o.disable_sources, optarg);
			break;
		case OPT_PAGE_SIZE:
			if (parse_nonneg(optarg, &o.page_size) < 0 || o.page_size == 0)
				r = errf(errbuf, errlen, -EINVAL,
					 "--page-size needs a positive number of bytes, got '%s'",
					 optarg);
			break;
		case ':':
			/* argv[optind - 1] is the token as typed ("-M", "--pidfile") */
			r = errf(errbuf, errlen, -EINVAL, "option '%s' needs an argument",
				 argv[optind - 1]);
			break;
		case '?':
		default:
			if (optopt && optopt < 0x100)
				r = errf(errbuf, errlen, -EINVAL, "unknown option '-%c'", optopt);
			else
				r = errf(errbuf, errlen, -EINVAL, "unknown option '%s'",
					 argv[optind - 1]);
			break;
		}
		if (r < 0)
			goto fail;
	}
	if (optind < argc) {
		r = errf(errbuf, errlen, -EINVAL, "unexpected argument '%s'", argv[optind]);
		goto fail;
	}
	if (o.enable_sources.n && o.disable_sources.n) {
		r = errf(errbuf, errlen, -EINVAL,
			 "--enable-source and --disable-source cannot be used together");
		goto fail;
	}
	if (o.enable_tags.n && o.disable_tags.n) {
		r = errf(errbuf, errlen, -EINVAL,
			 "you cannot specify both disabled (-T) and enabled (-t) tags");
		goto fail;
	}
	if (r == -ENOMEM)
		goto fail;
	*ret = o;
	return 0;

fail:
	if (r == -ENOMEM)
		errf(errbuf, errlen, r, "out of memory");
	cli_opts_done(&o);
	return r;
}
