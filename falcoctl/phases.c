/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `install falco` phase tree: plain data, in order. The runner (phase.c) flattens it, the help text and the
 * `install phase` list come from it, and reset walks it backwards through the undo functions.
 */
#include "install.h"
#include "phase.h"

const struct fc_phase fc_install_phases[] = {
	{"preflight", NULL, "Run pre-flight checks", phase_preflight_run, phase_preflight_run, NULL,
	 0},
	{"userspace", NULL, "Install the falco binary (" FC_FALCO_BIN ")", phase_userspace_run,
	 phase_userspace_run, phase_userspace_undo, 0},
	{"driver", NULL, "Select, obtain and load the driver", NULL, NULL, NULL, 0},
	{"select", "driver", "Pick the first allowed driver type whose live checks pass",
	 phase_driver_select_run, phase_driver_select_run, NULL, 0},
	{"fetch", "driver", "Download and verify a prebuilt kernel module (kmod only)",
	 phase_driver_fetch_run, phase_driver_fetch_run, phase_driver_fetch_undo, 0},
	{"load", "driver", "Prove the eBPF probe loads and attaches, or insert the kernel module",
	 phase_driver_load_run, phase_driver_load_run, phase_driver_load_undo, FC_PHASE_HOST},
	{"config", NULL, "Write " FC_FALCO_YAML, phase_config_run, phase_config_run,
	 phase_config_undo, 0},
	{"rules", NULL,
	 "Install the default rules into " FC_FALCO_CONF_DIR " (the local rules file is kept)",
	 phase_rules_run, phase_rules_run, phase_rules_undo, 0},
	{"units", NULL, "Install and enable the systemd units", phase_units_run, phase_units_run,
	 phase_units_undo, 0},
	{"tls", NULL, "TLS material for falco's web server (not implemented yet)", NULL, NULL, NULL,
	 FC_PHASE_RESERVED},
	{"audit", NULL, "Kubernetes audit webhook wiring (not implemented yet)", NULL, NULL, NULL,
	 FC_PHASE_RESERVED},
	{"start", NULL, "Start falco (systemd, or a falcoctl-supervised daemon without systemd)",
	 phase_start_run, phase_start_check, phase_start_undo, FC_PHASE_HOST},
	{"verify", NULL, "Check /healthz and that a self-test action raises the expected alert",
	 phase_verify_run, phase_verify_check, NULL, FC_PHASE_HOST},
};

const size_t fc_install_phases_n = ARRAY_SIZE(fc_install_phases);
