/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sd-bus behind struct fc_systemd_ops: one function per verb, each returning -errno with text. Start, restart
 * and stop wait for the job like systemctl does (Subscribe, then JobRemoved for our job path), so a Type=notify
 * unit counts as started only once it sent READY=1. As root the private socket /run/systemd/private is used
 * first, so nothing depends on dbus-daemon. Non-logging.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "common/err.h"
#include "fc.h"

#define SD_DEST	   "org.freedesktop.systemd1"
#define SD_PATH	   "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"

static int bus_open(sd_bus **ret, char *errbuf, size_t errlen)
{
	sd_bus *bus = NULL;
	int r;

	if (geteuid() == 0 && access("/run/systemd/private", F_OK) == 0) {
		r = sd_bus_new(&bus);
		if (r >= 0)
			r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
		if (r >= 0)
			r = sd_bus_start(bus);
		if (r >= 0) {
			*ret = bus;
			return 0;
		}
		bus = sd_bus_flush_close_unref(bus);
	}
	r = sd_bus_open_system(&bus);
	if (r < 0)
		return errf(errbuf, errlen, r, "cannot connect to systemd: %s", strerror(-r));
	*ret = bus;
	return 0;
}

static bool real_booted(void *data)
{
	return sd_booted() > 0;
}

static int real_daemon_reload(void *data, char *errbuf, size_t errlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	int r = bus_open(&bus, errbuf, errlen);
	if (r < 0)
		return r;
	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Reload", &e, NULL, NULL);
	if (r < 0)
		errf(errbuf, errlen, r, "daemon-reload failed: %s",
		     e.message ? e.message : strerror(-r));
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return r < 0 ? r : 0;
}

struct job_wait {
	char *path;
	bool done;
	char result[32];
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct job_wait *w = userdata;
	const char *path, *unit, *result;
	uint32_t id;
	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (w->path && streq(path, w->path)) {
		w->done = true;
		snprintf(w->result, sizeof(w->result), "%s", result);
	}
	return 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int job_verb(const char *method, const char *unit, unsigned timeout_ms, char *errbuf,
		    size_t errlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus_slot *slot = NULL;
	struct job_wait w = {0};
	sd_bus *bus = NULL;
	const char *job;
	int r;

	r = bus_open(&bus, errbuf, errlen);
	if (r < 0)
		return r;
	r = sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved",
				on_job_removed, &w);
	if (r < 0) {
		errf(errbuf, errlen, r, "cannot watch systemd jobs: %s", strerror(-r));
		goto out;
	}
	(void)sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", NULL, NULL, NULL);
	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, method, &e, &reply, "ss", unit,
			       "replace");
	if (r < 0) {
		errf(errbuf, errlen, r, "%s %s: %s", method, unit,
		     e.message ? e.message : strerror(-r));
		goto out;
	}
	r = sd_bus_message_read(reply, "o", &job);
	if (r < 0 || !(w.path = strdup(job))) {
		r = errf(errbuf, errlen, r < 0 ? r : -ENOMEM, "%s %s: bad reply from systemd",
			 method, unit);
		goto out;
	}
	uint64_t deadline = now_usec() + (uint64_t)timeout_ms * 1000u;
	while (!w.done) {
		r = sd_bus_process(bus, NULL);
		if (r < 0) {
			errf(errbuf, errlen, r, "lost the connection to systemd: %s", strerror(-r));
			goto out;
		}
		if (r > 0)
			continue;
		uint64_t now = now_usec();
		if (now >= deadline) {
			r = errf(errbuf, errlen, -ETIMEDOUT, "%s %s: no result after %u s", method,
				 unit, timeout_ms / 1000);
			goto out;
		}
		r = sd_bus_wait(bus, deadline - now);
		if (r < 0 && r != -EINTR) {
			errf(errbuf, errlen, r, "waiting for systemd: %s", strerror(-r));
			goto out;
		}
	}
	if (streq(w.result, "done"))
		r = 0;
	else
		r = errf(errbuf, errlen, streq(w.result, "timeout") ? -ETIMEDOUT : -EIO,
			 "job for %s %s", unit,
			 streq(w.result, "failed")	 ? "failed"
			 : streq(w.result, "timeout")	 ? "timed out"
			 : streq(w.result, "dependency") ? "failed because a dependency failed"
			 : streq(w.result, "canceled")	 ? "was canceled"
							 : w.result);
out:
	free(w.path);
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	sd_bus_slot_unref(slot);
	sd_bus_flush_close_unref(bus);
	return r;
}

static int real_start(void *data, const char *unit, unsigned timeout_ms, char *errbuf,
		      size_t errlen)
{
	return job_verb("StartUnit", unit, timeout_ms, errbuf, errlen);
}

static int real_restart(void *data, const char *unit, unsigned timeout_ms, char *errbuf,
			size_t errlen)
{
	return job_verb("RestartUnit", unit, timeout_ms, errbuf, errlen);
}

static int real_stop(void *data, const char *unit, unsigned timeout_ms, char *errbuf, size_t errlen)
{
	return job_verb("StopUnit", unit, timeout_ms, errbuf, errlen);
}

static void get_str(sd_bus *bus, const char *path, const char *iface, const char *prop, char *out,
		    size_t outlen)
{
	char *s = NULL;
	if (sd_bus_get_property_string(bus, SD_DEST, path, iface, prop, NULL, &s) >= 0)
		snprintf(out, outlen, "%s", s);
	free(s);
}

static int real_status(void *data, const char *unit, struct fc_unit_status *ret, char *errbuf,
		       size_t errlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus = NULL;
	const char *path;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = bus_open(&bus, errbuf, errlen);
	if (r < 0)
		return r;
	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "LoadUnit", &e, &reply, "s",
			       unit);
	if (r < 0) {
		errf(errbuf, errlen, r, "LoadUnit %s: %s", unit,
		     e.message ? e.message : strerror(-r));
		goto out;
	}
	r = sd_bus_message_read(reply, "o", &path);
	if (r < 0) {
		errf(errbuf, errlen, r, "LoadUnit %s: bad reply", unit);
		goto out;
	}
	get_str(bus, path, "org.freedesktop.systemd1.Unit", "ActiveState", ret->active_state,
		sizeof(ret->active_state));
	get_str(bus, path, "org.freedesktop.systemd1.Unit", "SubState", ret->sub_state,
		sizeof(ret->sub_state));
	get_str(bus, path, "org.freedesktop.systemd1.Unit", "UnitFileState", ret->unit_file_state,
		sizeof(ret->unit_file_state));
	int nr = 0;
	if (sd_bus_get_property_trivial(bus, SD_DEST, path, "org.freedesktop.systemd1.Unit",
					"NeedDaemonReload", NULL, 'b', &nr) >= 0)
		ret->need_reload = nr;
	if (strstr(unit, ".service")) {
		get_str(bus, path, "org.freedesktop.systemd1.Service", "Result", ret->result,
			sizeof(ret->result));
		(void)sd_bus_get_property_trivial(bus, SD_DEST, path,
						  "org.freedesktop.systemd1.Service", "MainPID",
						  NULL, 'u', &ret->main_pid);
	}
	ret->active = streq(ret->active_state, "active")	 ? FC_UNIT_ACTIVE
		      : streq(ret->active_state, "inactive")	 ? FC_UNIT_INACTIVE
		      : streq(ret->active_state, "activating")	 ? FC_UNIT_ACTIVATING
		      : streq(ret->active_state, "deactivating") ? FC_UNIT_DEACTIVATING
		      : streq(ret->active_state, "failed")	 ? FC_UNIT_FAILED
								 : FC_UNIT_UNKNOWN;
	r = 0;
out:
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return r;
}

static int real_clean(void *data, const char *unit, const char *const *what, char *errbuf,
		      size_t errlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	sd_bus *bus = NULL;
	int r = bus_open(&bus, errbuf, errlen);
	if (r < 0)
		return r;
	r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "CleanUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", unit);
	if (r >= 0)
		r = sd_bus_message_append_strv(m, (char **)what);
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &e, NULL);
	if (r < 0)
		errf(errbuf, errlen, r, "CleanUnit %s: %s", unit,
		     e.message ? e.message : strerror(-r));
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	sd_bus_flush_close_unref(bus);
	return r < 0 ? r : 0;
}

const struct fc_systemd_ops fc_systemd_real = {
	.booted = real_booted,
	.daemon_reload = real_daemon_reload,
	.start = real_start,
	.restart = real_restart,
	.stop = real_stop,
	.status = real_status,
	.clean = real_clean,
};
