/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The falco daemon: what main runs once the command line and falco.yaml are parsed. daemon_run() owns the engine
 * thread (a libevent loop on the calling thread): it loads and selects rules, starts the outputs, opens the event
 * sources (replay file, k8s_audit webhook; the syscall source plugs in here too), evaluates every event and
 * prints the summary on exit. The one-shot actions (-V, -L/-l, --list, --list-events) live here too because they
 * share the rules loading. Everything here may log (see STYLE 2.5); every function returns a process exit status.
 */
#pragma once

#include "cli.h"
#include "config.h"

struct daemon_args {
	const struct cli_opts *cli;
	const struct falco_config *cfg;
	const char *hostname; /* FALCO_HOSTNAME or gethostname(), resolved by main */
};

/* -V FILE...: loads the files with one loader, prints per-file results (JSON with json_output). */
int daemon_validate(const struct daemon_args *a);

/* -L / -l RULE: loads the configured rules and describes them (JSON with json_output). */
int daemon_describe(const struct daemon_args *a);

/* --list[=SOURCE] (-N for names only) and --list-events. */
int daemon_list_fields(const struct daemon_args *a);
int daemon_list_events(const struct daemon_args *a);

/*
 * --check-driver: loads and attaches the modern eBPF probe, then removes it (evt_bpf_check). Prints one line on
 * stdout and returns EXIT_SUCCESS, or logs why it cannot run here and returns EXIT_FAILURE.
 */
int daemon_check_driver(void);

/* Runs until a signal, -M, or the end of a replay. EXIT_FAILURE on setup errors or malformed replay input. */
int daemon_run(const struct daemon_args *a);
