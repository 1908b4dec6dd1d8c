/* SPDX-License-Identifier: Apache-2.0 */
/*
 * falcoctl: one binary, a command table (kmod's tools are the model). Parses the command line into settings
 * with the precedence flag > FALCOCTL_* environment > falcoctl.yaml > default, sets up the reporter and
 * dispatches. Help, the phase list and the bash completion script are all generated from the tables.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>
#include <curl/curl.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "cmd.h"
#include "config.h"
#include "fc.h"
#include "phase.h"

extern char **environ;

#define K(x) (1ull << (x))
#define GLOBAL_FLAGS \
	(K(FC_K_ROOT) | K(FC_K_CONFIG) | K(FC_K_OUTPUT) | K(FC_K_VERBOSE) | K(FC_K_DRY_RUN))
#define DRIVER_FLAGS                                                                          \
	(K(FC_K_DRIVER_TYPE) | K(FC_K_DRIVER_NAME) | K(FC_K_DRIVER_VERSION) |                 \
	 K(FC_K_DRIVER_REPOS) | K(FC_K_DRIVER_KERNELRELEASE) | K(FC_K_DRIVER_KERNELVERSION) | \
	 K(FC_K_DRIVER_CAFILE) | K(FC_K_DRIVER_KEYSDIR) | K(FC_K_DRIVER_CACHEDIR) |           \
	 K(FC_K_DRIVER_PLAINHTTP) | K(FC_K_DRIVER_HTTPTIMEOUT) | K(FC_K_DRIVER_HTTPRETRIES) | \
	 K(FC_K_DRIVER_MAXSIZE))
#define INSTALL_FLAGS                                                                           \
	(DRIVER_FLAGS | K(FC_K_INSTALL_FROM) | K(FC_K_INSTALL_ASSETS) |                         \
	 K(FC_K_INSTALL_SKIPPHASES) | K(FC_K_INSTALL_IGNOREPREFLIGHT) | K(FC_K_START_TIMEOUT) | \
	 K(FC_K_VERIFY_TIMEOUT))

static int cmd_completion(struct fc_cmd_env *env);

struct command {
	const char *words; /* "install falco" */
	const char *args;  /* positional usage */
	const char *summary;
	uint64_t flags; /* settings that may be given as flags, besides the global ones */
	int (*fn)(struct fc_cmd_env *env);
	const char *help;
	bool phases; /* help lists the install phases */
};

static const struct command commands[] = {
	{"install falco", "", "Install falco on this host (or a --root tree): every phase",
	 INSTALL_FLAGS, cmd_install_falco,
	 "Installs falco kubeadm-style: each phase is idempotent, so a re-run converges and changes nothing on a\n"
	 "converged host. What each phase did is recorded in /var/lib/falcoctl/state.json for `reset`.\n"
	 "With --root DIR every path is resolved under DIR (a pre-baked image tree) and the phases that act on\n"
	 "the running host (driver/load, start, verify) are skipped. --dry-run prints what would change.",
	 true},
	{"install phase", "<name>", "Run one install phase and its children", INSTALL_FLAGS,
	 cmd_install_phase,
	 "Runs the named phase (a path such as driver/load) and its children, exactly as a full install would.",
	 true},
	{"driver config", "", "Set the allowed driver types (--type) and show the driver settings",
	 DRIVER_FLAGS, cmd_driver_config,
	 "With --type (repeatable, or a list: auto, modern_ebpf, kmod) stores driver.type in falcoctl.yaml,\n"
	 "keeping the rest of the file as written. Prints every driver setting and where its value came from.",
	 false},
	{"driver printenv", "", "Print the driver environment as KEY=\"value\" lines", DRIVER_FLAGS,
	 cmd_driver_printenv,
	 "Kernel release and version, architecture, target id from /etc/os-release (upstream's rules), the\n"
	 "chosen driver (auto selection runs its live checks), repositories and cache paths.",
	 false},
	{"driver status", "", "Show what is loaded or attached, versions and drop counters",
	 DRIVER_FLAGS, cmd_driver_status, NULL, false},
	{"driver load", "",
	 "Load the driver: prove modern_ebpf attaches, or insert the kernel module", DRIVER_FLAGS,
	 cmd_driver_load,
	 "modern_ebpf: loads and attaches a tp_btf program to sys_exit to prove the kernel accepts falco's probe\n"
	 "(falco attaches its own programs when it starts). kmod: loads the verified module from the cache,\n"
	 "downloading it first. Acts on the running kernel even with --root (which then only relocates files).",
	 false},
	{"driver unload", "", "Unload the kernel module", DRIVER_FLAGS, cmd_driver_unload, NULL,
	 false},
	{"driver fetch", "", "Download and verify the kernel module for this kernel", DRIVER_FLAGS,
	 cmd_driver_fetch,
	 "Downloads <repo>/<version>/<arch>/SHA256SUMS and SHA256SUMS.sig, checks the Ed25519 signature with the\n"
	 "keys pinned in keysDir, then the module itself against the list, and caches all three.",
	 false},
	{"driver cleanup", "", "Unload the kernel module and remove cached drivers", DRIVER_FLAGS,
	 cmd_driver_cleanup, NULL, false},
	{"status", "", "Show what falcoctl installed and whether it is still as installed", 0,
	 cmd_status, NULL, false},
	{"reset", "",
	 "Remove what install added (files, units, driver), precisely, from the state file", 0,
	 cmd_reset,
	 "Stops falco, disables and removes the units, removes the files falcoctl wrote (files changed since are\n"
	 "kept and reported), unloads a module falcoctl loaded and removes the state.",
	 false},
	{"version", "", "Print the version", 0, cmd_version, NULL, false},
	{"completion bash", "", "Print the bash completion script", 0, cmd_completion, NULL, false},
};

static const char *const groups[] = {"install", "driver", "completion"};

static struct fc_reporter reporter;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[1024];
	if (reporter.verbosity == 0)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	fc_report(&reporter, FC_DEBUG, "libbpf", "%s", msg);
	return 0;
}

static const char *flag_arg(enum fc_key k)
{
	switch (k) {
	case FC_K_ROOT:
	case FC_K_INSTALL_ASSETS:
	case FC_K_DRIVER_KEYSDIR:
	case FC_K_DRIVER_CACHEDIR:
		return " DIR";
	case FC_K_CONFIG:
	case FC_K_DRIVER_CAFILE:
	case FC_K_INSTALL_FROM:
		return " FILE";
	case FC_K_DRIVER_VERSION:
		return " VERSION";
	case FC_K_DRIVER_NAME:
		return " NAME";
	case FC_K_DRIVER_KERNELRELEASE:
		return " RELEASE";
	case FC_K_DRIVER_KERNELVERSION:
		return " VERSION";
	case FC_K_DRIVER_REPOS:
		return " URL";
	case FC_K_DRIVER_TYPE:
		return " TYPE";
	case FC_K_INSTALL_SKIPPHASES:
	case FC_K_INSTALL_IGNOREPREFLIGHT:
		return " NAME,...";
	default:
		break;
	}
	switch (fc_setting_defs[k].kind) {
	case FC_KIND_BOOL:
		return "";
	case FC_KIND_LIST:
		return " LIST";
	case FC_KIND_DURATION:
		return " DURATION";
	case FC_KIND_SIZE:
		return " SIZE";
	case FC_KIND_UINT:
		return " N";
	case FC_KIND_ENUM:
		return " text|json";
	default:
		return " VALUE";
	}
}

static void flags_help(struct strbuf *sb, uint64_t mask)
{
	for (int k = 0; k < _FC_K_MAX; k++) {
		const struct fc_setting_def *d = &fc_setting_defs[k];
		if (!(mask & K(k)) || !d->flag)
			continue;
		char left[64];
		if (k == FC_K_VERBOSE)
			snprintf(left, sizeof(left), "-v, --verbose");
		else if (k == FC_K_OUTPUT)
			snprintf(left, sizeof(left), "-o, --output%s", flag_arg(k));
		else
			snprintf(left, sizeof(left), "    --%s%s", d->flag, flag_arg(k));
		strbuf_appendf(sb, "  %-36s %s", left, d->help);
		if (d->defval && *d->defval && d->kind != FC_KIND_BOOL && k != FC_K_VERBOSE)
			strbuf_appendf(sb, " (default %s)", d->defval);
		if (d->env)
			strbuf_appendf(sb, " [%s]", d->env);
		strbuf_appendc(sb, '\n');
	}
}

static void usage_top(struct strbuf *sb)
{
	strbuf_appends(
		sb,
		"Usage: falcoctl [flags] <command> [flags]\n\n"
		"Install and run falco as a plain Linux service, kubeadm style.\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		strbuf_appendf(sb, "  %-18s %s\n", commands[i].words, commands[i].summary);
	strbuf_appends(sb, "\nGlobal flags:\n");
	flags_help(sb, GLOBAL_FLAGS);
	strbuf_appends(
		sb,
		"  -h, --help                           help for any command\n"
		"\nPrecedence: flag > FALCOCTL_* environment > falcoctl.yaml > default. See falcoctl(8).\n");
}

static void usage_cmd(struct strbuf *sb, const struct command *c)
{
	strbuf_appendf(sb, "Usage: falcoctl %s%s%s [flags]\n\n%s\n", c->words,
		       c->args[0] ? " " : "", c->args, c->summary);
	if (c->help)
		strbuf_appendf(sb, "\n%s\n", c->help);
	if (c->phases) {
		strbuf_appends(sb,
			       "\nThe \"install falco\" command executes the following phases:\n");
		fc_phases_help(fc_install_phases, fc_install_phases_n, sb);
	}
	if (c->flags) {
		strbuf_appends(sb, "\nFlags:\n");
		flags_help(sb, c->flags);
	}
	strbuf_appends(sb, "\nGlobal flags:\n");
	flags_help(sb, GLOBAL_FLAGS);
}

static void usage_group(struct strbuf *sb, const char *group)
{
	strbuf_appendf(sb, "Usage: falcoctl %s <command> [flags]\n\nCommands:\n", group);
	size_t gl = strlen(group);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strncmp(commands[i].words, group, gl) == 0 && commands[i].words[gl] == ' ')
			strbuf_appendf(sb, "  %-18s %s\n", commands[i].words + gl + 1,
				       commands[i].summary);
	if (streq(group, "install")) {
		strbuf_appends(sb,
			       "\nThe \"install falco\" command executes the following phases:\n");
		fc_phases_help(fc_install_phases, fc_install_phases_n, sb);
	}
}

/* ---- bash completion, generated from the same tables --------------------------------------------------- */

static void words_of(struct strbuf *sb, uint64_t mask)
{
	for (int k = 0; k < _FC_K_MAX; k++)
		if ((mask & K(k)) && fc_setting_defs[k].flag)
			strbuf_appendf(sb, " --%s", fc_setting_defs[k].flag);
}

static int cmd_completion(struct fc_cmd_env *env)
{
	struct strbuf sb;
	struct fc_phase_ref refs[32];
	int n = fc_phases_flatten(fc_install_phases, fc_install_phases_n, refs, NULL, 0);

	strbuf_init(&sb, 0);
	strbuf_appends(
		&sb,
		"# bash completion for falcoctl(8). Generated by `falcoctl completion bash`; do not edit.\n"
		"_falcoctl()\n{\n"
		"    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
		"    local i w cmd=\"\" nwords=0\n"
		"    for ((i = 1; i < COMP_CWORD; i++)); do\n"
		"        w=${COMP_WORDS[i]}\n"
		"        case $w in\n"
		"            --*=*) ;;\n");
	/* flags that take a value swallow the next word */
	strbuf_appends(&sb, "            ");
	bool first = true;
	for (int k = 0; k < _FC_K_MAX; k++)
		if (fc_setting_defs[k].flag && fc_setting_defs[k].kind != FC_KIND_BOOL &&
		    k != FC_K_VERBOSE) {
			strbuf_appendf(&sb, "%s--%s", first ? "" : "|", fc_setting_defs[k].flag);
			first = false;
		}
	strbuf_appends(
		&sb,
		"|-o) ((i++)) ;;\n"
		"            -*) ;;\n"
		"            *) cmd=\"$cmd $w\"; ((nwords++)) ;;\n"
		"        esac\n"
		"    done\n"
		"    cmd=${cmd# }\n"
		"    case $prev in\n"
		"        --type) COMPREPLY=($(compgen -W \"auto modern_ebpf kmod\" -- \"$cur\")); return ;;\n"
		"        --output|-o) COMPREPLY=($(compgen -W \"text json\" -- \"$cur\")); return ;;\n"
		"        --skip-phases) COMPREPLY=($(compgen -W \"");
	for (int i = 0; i < n; i++)
		strbuf_appendf(&sb, "%s%s", i ? " " : "", refs[i].path);
	strbuf_appends(
		&sb,
		"\" -- \"$cur\")); return ;;\n"
		"        --root|--assets|--keys-dir|--cache-dir) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n"
		"        --config|--from|--ca-file) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
		"    esac\n"
		"    local global=\"--help -v --verbose");
	words_of(&sb, GLOBAL_FLAGS & ~K(FC_K_VERBOSE));
	strbuf_appends(&sb, "\"\n    case $cmd in\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		strbuf_appendf(&sb, "        \"%s\"", commands[i].words);
		if (streq(commands[i].words, "install phase"))
			strbuf_appends(
				&sb,
				")\n            if [[ $cur != -* ]]; then COMPREPLY=($(compgen -W \"");
		else
			strbuf_appends(
				&sb,
				")\n            if [[ $cur != -* ]]; then COMPREPLY=($(compgen -W \"");
		if (streq(commands[i].words, "install phase"))
			for (int k = 0; k < n; k++)
				strbuf_appendf(&sb, "%s%s", k ? " " : "", refs[k].path);
		strbuf_appends(
			&sb,
			"\" -- \"$cur\")); return; fi\n            COMPREPLY=($(compgen -W \"$global");
		words_of(&sb, commands[i].flags);
		strbuf_appends(&sb, "\" -- \"$cur\")); return ;;\n");
	}
	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		strbuf_appendf(&sb, "        %s) COMPREPLY=($(compgen -W \"", groups[g]);
		size_t gl = strlen(groups[g]);
		bool f = true;
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			if (strncmp(commands[i].words, groups[g], gl) == 0 &&
			    commands[i].words[gl] == ' ') {
				strbuf_appendf(&sb, "%s%s", f ? "" : " ",
					       commands[i].words + gl + 1);
				f = false;
			}
		strbuf_appends(&sb, "\" -- \"$cur\")); return ;;\n");
	}
	strbuf_appends(&sb, "        \"\") COMPREPLY=($(compgen -W \"$global");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		size_t l = strcspn(commands[i].words, " ");
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			if (strncmp(commands[j].words, commands[i].words, l) == 0 &&
			    commands[j].words[l] == commands[i].words[l])
				dup = true;
		if (!dup)
			strbuf_appendf(&sb, " %.*s", (int)l, commands[i].words);
	}
	strbuf_appends(&sb, "\" -- \"$cur\")); return ;;\n"
			    "    esac\n"
			    "}\n"
			    "complete -F _falcoctl falcoctl\n");
	fc_report_raw(env->rep, strbuf_str(&sb));
	strbuf_done(&sb);
	return EXIT_SUCCESS;
}

/* ---- command line ------------------------------------------------------------------------------------------ */

struct flagval {
	int key;
	const char *value;
	const char *as_typed;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("falcoctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nRun 'falcoctl --help' for usage.\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct fc_settings cfg;
	struct flagval *flags = calloc((size_t)argc + 1, sizeof(*flags));
	char **pos = calloc((size_t)argc + 1, sizeof(char *));
	size_t nflags = 0, npos = 0;
	unsigned verbose = 0;
	bool help = false, only_pos = false;
	char e[2048];
	int rc = EXIT_FAILURE;
	uint64_t t0 = mono_ms();

	if (!flags || !pos || fc_settings_init(&cfg) < 0) {
		fputs("falcoctl: out of memory\n", stderr);
		return EXIT_FAILURE;
	}
	/* 1. split the command line into words and flags (flags may come anywhere, as with kubeadm) */
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			pos[npos++] = a;
			continue;
		}
		if (streq(a, "--")) {
			only_pos = true;
			continue;
		}
		if (streq(a, "-h") || streq(a, "--help")) {
			help = true;
			continue;
		}
		if (a[1] != '-') {
			/* short flags: -v (repeatable: -vv), -o VALUE */
			if (strspn(a + 1, "v") == strlen(a + 1)) {
				verbose += (unsigned)strlen(a + 1);
				continue;
			}
			if (a[1] == 'o') {
				const char *v = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
				if (!v) {
					rc = usage_error("flag -o needs a value");
					goto out;
				}
				flags[nflags++] = (struct flagval){FC_K_OUTPUT, v, "-o"};
				continue;
			}
			rc = usage_error("unknown flag: %s", a);
			goto out;
		}
		char name[64];
		const char *eq = strchr(a + 2, '=');
		snprintf(name, sizeof(name), "%.*s",
			 (int)(eq ? (size_t)(eq - a - 2) : strlen(a + 2)), a + 2);
		int k = fc_key_from_flag(name);
		if (k < 0) {
			rc = usage_error("unknown flag: --%s", name);
			goto out;
		}
		const char *v = eq ? eq + 1 : NULL;
		if (k == FC_K_VERBOSE && !v) {
			verbose++;
			continue;
		}
		if (!v && fc_setting_defs[k].kind == FC_KIND_BOOL)
			v = "true";
		if (!v) {
			if (i + 1 >= argc) {
				rc = usage_error("flag --%s needs a value", name);
				goto out;
			}
			v = argv[++i];
		}
		flags[nflags++] = (struct flagval){k, v, argv[i]};
	}

	/* 2. the command: the longest match of the leading words */
	const struct command *cmd = NULL;
	size_t used = 0;
	for (size_t i = 0; i < ARRAY_SIZE(commands) && npos > 0; i++) {
		const char *w = commands[i].words;
		size_t nw = 1 + (strchr(w, ' ') != NULL), l0 = strcspn(w, " ");
		if (strlen(pos[0]) != l0 || strncmp(pos[0], w, l0) != 0)
			continue;
		if (nw == 2 && (npos < 2 || !streq(pos[1], w + l0 + 1)))
			continue;
		cmd = &commands[i];
		used = nw;
		break;
	}
	fc_reporter_init(&reporter, stdout, stderr, FC_OUTPUT_TEXT, (int)verbose);
	if (!cmd) {
		struct strbuf sb;
		strbuf_init(&sb, 0);
		const char *group = NULL;
		for (size_t g = 0; npos > 0 && g < ARRAY_SIZE(groups); g++)
			if (streq(pos[0], groups[g]))
				group = groups[g];
		if (npos == 0 || (group && npos == 1)) {
			if (group)
				usage_group(&sb, group);
			else
				usage_top(&sb);
			fputs(strbuf_str(&sb), help ? stdout : stderr);
			rc = help ? EXIT_SUCCESS : 2;
		} else {
			rc = usage_error("unknown command: %s%s%s", pos[0], npos > 1 ? " " : "",
					 npos > 1 ? pos[1] : "");
		}
		strbuf_done(&sb);
		goto out;
	}
	if (help) {
		struct strbuf sb;
		strbuf_init(&sb, 0);
		usage_cmd(&sb, cmd);
		fputs(strbuf_str(&sb), stdout);
		strbuf_done(&sb);
		rc = EXIT_SUCCESS;
		goto out;
	}

	/* 3. settings: flags, then the environment, then the file; each keeps the highest source */
	struct strbuf lists[_FC_K_MAX];
	for (int k = 0; k < _FC_K_MAX; k++)
		strbuf_init(&lists[k], 1 << 20);
	for (size_t i = 0; i < nflags; i++) {
		int k = flags[i].key;
		if (!((GLOBAL_FLAGS | cmd->flags) & K(k))) {
			rc = usage_error("flag --%s does not apply to 'falcoctl %s'",
					 fc_setting_defs[k].flag, cmd->words);
			goto out_lists;
		}
		/* list flags accumulate: --type modern_ebpf --type kmod */
		if (fc_setting_defs[k].kind == FC_KIND_LIST && lists[k].len)
			strbuf_appendc(&lists[k], ';');
		else if (fc_setting_defs[k].kind != FC_KIND_LIST)
			strbuf_reset(&lists[k]);
		strbuf_appends(&lists[k], flags[i].value);
	}
	if (verbose) {
		strbuf_appendf(&lists[FC_K_VERBOSE], "%u", verbose);
	}
	for (int k = 0; k < _FC_K_MAX; k++) {
		char origin[96];
		if (!lists[k].len)
			continue;
		snprintf(origin, sizeof(origin), "flag --%s", fc_setting_defs[k].flag);
		if (fc_settings_set(&cfg, k, strbuf_str(&lists[k]), FC_SRC_FLAG, origin, e,
				    sizeof(e)) < 0) {
			rc = usage_error("%s", e);
			goto out_lists;
		}
	}
	if (fc_settings_load_env(&cfg, environ, e, sizeof(e)) < 0) {
		rc = usage_error("%s", e);
		goto out_lists;
	}
	{
		/* the default config file belongs to the tree being installed; an explicit one is a host path */
		char path[PATH_MAX];
		const char *cp = fc_cfg_str(&cfg, FC_K_CONFIG);
		bool explicit_cfg = cfg.src[FC_K_CONFIG] != FC_SRC_DEFAULT;
		if (!explicit_cfg &&
		    path_join_root(fc_cfg_str(&cfg, FC_K_ROOT), cp, path, sizeof(path)) == 0)
			cp = path;
		if (fc_settings_load_file(&cfg, cp, !explicit_cfg, e, sizeof(e)) < 0) {
			fprintf(stderr, "falcoctl: %s\n", e);
			rc = EXIT_FAILURE;
			goto out_lists;
		}
	}
	fc_reporter_init(&reporter, stdout, stderr,
			 streq(fc_cfg_str(&cfg, FC_K_OUTPUT), "json") ? FC_OUTPUT_JSON
								      : FC_OUTPUT_TEXT,
			 (int)fc_cfg_num(&cfg, FC_K_VERBOSE));
	libbpf_set_print(libbpf_print);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	struct fc_cmd_env env = {
		.cfg = &cfg,
		.rep = &reporter,
		.ops = fc_real_ops(),
		.args = pos + used,
		.nargs = (int)(npos - used),
		.t0_ms = t0,
	};
	if (env.nargs > 0 && !streq(cmd->words, "install phase")) {
		rc = usage_error("unexpected argument '%s' for 'falcoctl %s'", env.args[0],
				 cmd->words);
		goto out_curl;
	}
	rc = cmd->fn(&env);
out_curl:
	curl_global_cleanup();
out_lists:
	for (int k = 0; k < _FC_K_MAX; k++)
		strbuf_done(&lists[k]);
out:
	fc_settings_done(&cfg);
	free(flags);
	free(pos);
	return rc;
}
