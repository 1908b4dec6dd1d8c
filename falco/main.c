/* SPDX-License-Identifier: Apache-2.0 */
/*
 * falco: parse the command line, load falco.yaml, set up logging, then hand over to daemon.c for the action asked
 * for (-V, -L/-l, --list, --list-events, --check-driver, or running). The environment is read here only (FALCO_HOSTNAME).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/log.h"
#include "engine/engine.h"
#include "cli.h"
#include "config.h"
#include "daemon.h"

#define DEFAULT_CONFIG SYSCONFDIR "/falco/falco.yaml"

static const char *machine(void)
{
	static struct utsname u;
	return uname(&u) == 0 ? u.machine : "unknown";
}

static void print_version(void)
{
	printf("Falco version: %s (%s)\n", PROJECT_VERSION, machine());
	printf("Engine:        %s\n", ENGINE_VERSION);
	printf("Git revision:  %s\n", GIT_REV);
}

static void setup_logging(const struct falco_config *cfg)
{
	unsigned targets = 0;

	if (cfg->log_stderr)
		targets |= LOG_TARGET_STDERR;
	if (cfg->log_syslog)
		targets |= LOG_TARGET_SYSLOG;
	log_set_targets(targets, "falco");
	log_set_level(cfg->log_level);
}

int main(int argc, char **argv)
{
	struct cli_opts cli;
	struct falco_config *cfg = NULL;
	char err[2048], host[HOST_NAME_MAX + 1] = "";
	const char *config_path;
	int r, rc;

	/* a closed stdout pipe must surface as EPIPE in the stdout sink, not kill falco */
	signal(SIGPIPE, SIG_IGN);
	/* a logrotate SIGHUP/SIGUSR1 during startup must not kill us; the event loop installs the real handlers */
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	log_set_targets(LOG_TARGET_STDERR, "falco");
	log_set_stderr_timestamps(true);

	if (cli_parse(argc, argv, &cli, err, sizeof(err)) < 0) {
		fprintf(stderr, "falco: %s\nTry 'falco --help' for more information.\n", err);
		return EXIT_FAILURE;
	}
	if (cli.help) {
		fputs(cli_help_text(), stdout);
		cli_opts_done(&cli);
		return EXIT_SUCCESS;
	}
	if (cli.version) {
		print_version();
		cli_opts_done(&cli);
		return EXIT_SUCCESS;
	}
	/* before falco.yaml: falcoctl proves the driver before it writes the configuration */
	if (cli.check_driver) {
		rc = daemon_check_driver();
		cli_opts_done(&cli);
		return rc;
	}

	/* an explicit -c must exist; the default path is optional (built-in defaults) */
	config_path = cli.config_path;
	if (!config_path && access(DEFAULT_CONFIG, F_OK) == 0)
		config_path = DEFAULT_CONFIG;
	r = config_load(config_path, cli.overrides.v, cli.overrides.n, &cfg, err, sizeof(err));
	if (r < 0) {
		log_err("failed to load the configuration: %s", err);
		cli_opts_done(&cli);
		return EXIT_FAILURE;
	}
	setup_logging(cfg);

	log_info("Falco version: %s (%s)", PROJECT_VERSION, machine());
	if (cfg->nfiles) {
		log_info("Falco initialized with configuration files:");
		for (size_t i = 0; i < cfg->nfiles; i++)
			log_info("   %s", cfg->files[i]);
	} else {
		log_info("No configuration file (%s not found): using built-in defaults",
			 DEFAULT_CONFIG);
	}
	for (size_t i = 0; i < cfg->nwarnings; i++)
		log_warn("%s", cfg->warnings[i]);

	const char *env_host = getenv("FALCO_HOSTNAME");
	if (env_host && *env_host)
		snprintf(host, sizeof(host), "%s", env_host);
	else if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");

	struct daemon_args a = {.cli = &cli, .cfg = cfg, .hostname = host};
	if (cli.validate.n)
		rc = daemon_validate(&a);
	else if (cli.list_fields)
		rc = daemon_list_fields(&a);
	else if (cli.list_events)
		rc = daemon_list_events(&a);
	else if (cli.describe_all || cli.describe_rule)
		rc = daemon_describe(&a);
	else
		rc = daemon_run(&a);

	config_free(cfg);
	cli_opts_done(&cli);
	return rc;
}
