/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fallback when systemd is not PID 1 (containers, some CI machines): falcoctl forks a small supervisor that
 * behaves like the unit would — Type=notify readiness through NOTIFY_SOCKET, Restart=on-failure with a rate
 * limit, the unit's CapabilityBoundingSet and NoNewPrivileges, output appended to a log file, a pidfile — and
 * stops falco on SIGTERM. Non-logging: the caller reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "install.h"

#define RESTART_SEC_MS	 2000
#define RESTART_BURST	 5
#define RESTART_WINDOW_S 60
#define STOP_TIMEOUT_MS	 10000
#define ABORT_TIMEOUT_MS \
	5000 /* after the watchdog's SIGABRT, SIGKILL (a stopped falco cannot take SIGABRT) */

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

pid_t fc_pidfile_alive(const char *pidfile)
{
	_cleanup_free_ char *text = NULL;
	if (read_file(pidfile, 64, &text, NULL, NULL, 0) < 0)
		return 0;
	long pid = strtol(text, NULL, 10);
	if (pid <= 1)
		return 0;
	if (kill((pid_t)pid, 0) < 0 && errno != EPERM)
		return 0;
	/* a zombie is not alive; our children are reaped, others' zombies do not count either */
	char stat_path[64], *st = NULL;
	snprintf(stat_path, sizeof(stat_path), "/proc/%ld/stat", pid);
	if (read_file(stat_path, 4096, &st, NULL, NULL, 0) == 0) {
		const char *p = strrchr(st, ')');
		bool zombie = p && p[1] == ' ' && p[2] == 'Z';
		free(st);
		if (zombie)
			return 0;
	}
	return (pid_t)pid;
}

static void write_pidfile(const char *path, pid_t pid)
{
	char dir[PATH_MAX], buf[32];
	snprintf(dir, sizeof(dir), "%s", path);
	(void)mkdir_p(dirname(dir), 0755, NULL, 0);
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	(void)write_file_atomic(path, buf, (size_t)n, 0644, NULL, 0);
}

static void report(int fd, const char *fmt, ...) _printf_(2, 3);
static void report(int fd, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	if (fd < 0)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(fd, buf, MIN((size_t)n, sizeof(buf) - 1));
}

/* The last bytes of the log, on one line, for error messages. */
static void log_tail(const char *logfile, char *out, size_t outlen)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	out[0] = '\0';
	if (read_file(logfile, 64u << 20, &text, &len, NULL, 0) < 0 || len == 0)
		return;
	size_t start = len > 600 ? len - 600 : 0;
	size_t o = 0;
	for (size_t i = start; i < len && o + 2 < outlen; i++)
		out[o++] = text[i] == '\n' ? '|' : text[i];
	out[o] = '\0';
}

/* The supervised log says why falco was killed (systemd's journal would). */
static void watchdog_note(const char *logfile, unsigned watchdog_ms)
{
	int fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return;
	dprintf(fd,
		"falcoctl supervisor: watchdog timeout (no WATCHDOG=1 for %u ms, the unit's WatchdogSec=): "
		"aborting falco\n",
		watchdog_ms);
	close(fd);
}

static pid_t spawn(const struct fc_supervise_spec *spec, const char *notify)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	setenv("NOTIFY_SOCKET", notify, 1);
	if (spec->watchdog_ms) {
		char v[32];
		snprintf(v, sizeof(v), "%llu", (unsigned long long)spec->watchdog_ms * 1000ull);
		setenv("WATCHDOG_USEC", v, 1);
		snprintf(v, sizeof(v), "%d", (int)getpid());
		setenv("WATCHDOG_PID", v, 1);
	} else {
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
	}
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int log = open(spec->logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (null >= 0)
		dup2(null, STDIN_FILENO);
	if (log >= 0) {
		dup2(log, STDOUT_FILENO);
		dup2(log, STDERR_FILENO);
	}
	/* root keeps exactly the bounding set across execve: the unit's CapabilityBoundingSet= */
	for (int cap = 0; cap < 64; cap++)
		if (!((spec->caps >> cap) & 1))
			(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	if (spec->no_new_privs)
		(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	execv(spec->argv[0], spec->argv);
	dprintf(STDERR_FILENO, "falcoctl supervisor: cannot execute %s: %s\n", spec->argv[0],
		strerror(errno));
	_exit(127);
}

static _noreturn_ void supervise(const struct fc_supervise_spec *spec, int status_fd)
{
	char notify[64], dir[PATH_MAX], tail[700];
	uint64_t restarts[RESTART_BURST] = {0};
	unsigned nrestart = 0;
	bool reported = false, stopping = false;
	int code = 0;

	/* 1. detach: only the status pipe stays open (the caller's lock file must not be held by us) */
	if (status_fd != 3) {
		dup2(status_fd, 3);
		status_fd = 3;
	}
	for (int fd = 4; fd < 1024; fd++)
		(void)close(fd);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	prctl(PR_SET_NAME, "falcoctl-superv", 0, 0, 0);
	umask(022);
	snprintf(dir, sizeof(dir), "%s", spec->logfile);
	(void)mkdir_p(dirname(dir), 0755, NULL, 0);
	write_pidfile(spec->sup_pidfile, getpid());

	/* 2. signals through a signalfd, readiness through an abstract notify socket */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	int nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int nlen = snprintf(notify, sizeof(notify), "@falcoctl-notify-%d", (int)getpid());
	memcpy(sa.sun_path + 1, notify + 1, (size_t)nlen - 1);
	if (sfd < 0 || nfd < 0 ||
	    bind(nfd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)nlen)) < 0) {
		report(status_fd, "FAIL cannot set up the supervisor: %s\n", strerror(errno));
		unlink(spec->sup_pidfile);
		_exit(1);
	}

	for (;;) {
		/* 3. run falco and wait for READY=1, its exit, or a signal */
		pid_t child = spawn(spec, notify);
		if (child < 0) {
			report(status_fd, "FAIL fork: %s\n", strerror(errno));
			code = 1;
			break;
		}
		write_pidfile(spec->pidfile, child);
		uint64_t ready_deadline = mono_ms() + spec->ready_timeout_ms, kill_deadline = 0;
		/* WatchdogSec=: armed at READY=1, pushed back by every WATCHDOG=1; 0 = not armed */
		uint64_t watchdog_deadline = 0;
		bool exited = false, ready = false;
		int status = 0;
		while (!exited) {
			int timeout = -1;
			uint64_t now = mono_ms();
			if (!reported)
				timeout = ready_deadline > now ? (int)(ready_deadline - now) : 0;
			if (watchdog_deadline && !kill_deadline)
				timeout = watchdog_deadline > now ? (int)(watchdog_deadline - now)
								  : 0;
			if (kill_deadline)
				timeout = kill_deadline > now ? (int)(kill_deadline - now) : 0;
			struct pollfd p[2] = {{.fd = sfd, .events = POLLIN},
					      {.fd = nfd, .events = POLLIN}};
			int n = poll(p, 2, timeout);
			if (n < 0 && errno == EINTR)
				continue;
			now = mono_ms();
			if (n == 0) {
				if (kill_deadline && now >= kill_deadline) {
					kill(child, SIGKILL);
					kill_deadline = 0;
				} else if (watchdog_deadline && now >= watchdog_deadline) {
					/* what systemd does: SIGABRT (a core for the post-mortem), then SIGKILL */
					watchdog_note(spec->logfile, spec->watchdog_ms);
					watchdog_deadline = 0;
					kill(child, SIGABRT);
					kill(child, SIGCONT);
					kill_deadline = now + ABORT_TIMEOUT_MS;
				} else if (!reported && now >= ready_deadline) {
					log_tail(spec->logfile, tail, sizeof(tail));
					report(status_fd,
					       "FAIL falco did not report READY=1 within %u s; its log: %s\n",
					       spec->ready_timeout_ms / 1000, tail);
					reported = true;
					close(status_fd);
					status_fd = -1;
					stopping = true;
					code = 1;
					kill(child, SIGTERM);
					kill_deadline = now + STOP_TIMEOUT_MS;
				}
				continue;
			}
			if (p[1].revents & POLLIN) {
				char msg[4096];
				ssize_t k = recv(nfd, msg, sizeof(msg) - 1, 0);
				if (k > 0) {
					msg[k] = '\0';
					if (strncmp(msg, "READY=1", 7) == 0 ||
					    strstr(msg, "\nREADY=1"))
						ready = true;
					bool ping = strncmp(msg, "WATCHDOG=1", 10) == 0 ||
						    strstr(msg, "\nWATCHDOG=1");
					if (spec->watchdog_ms && ready && !kill_deadline &&
					    (ping || !watchdog_deadline))
						watchdog_deadline = mono_ms() + spec->watchdog_ms;
					if (ready && !reported) {
						report(status_fd, "READY %d\n", (int)child);
						reported = true;
						close(status_fd);
						status_fd = -1;
					}
				}
			}
			if (p[0].revents & POLLIN) {
				struct signalfd_siginfo si;
				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
					stopping = true;
					kill(child, SIGTERM);
					kill_deadline = mono_ms() + STOP_TIMEOUT_MS;
				} else if (si.ssi_signo == SIGHUP) {
					kill(child, SIGHUP);
				}
				if (waitpid(child, &status, WNOHANG) == child)
					exited = true;
			}
		}
		unlink(spec->pidfile);
		if (stopping)
			break;
		if (!reported) {
			log_tail(spec->logfile, tail, sizeof(tail));
			report(status_fd,
			       "FAIL falco exited (%s %d) before it was ready; its log: %s\n",
			       WIFEXITED(status) ? "status" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), tail);
			code = 1;
			break;
		}
		/* 4. Restart=on-failure, at most RESTART_BURST times in RESTART_WINDOW_S */
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			break;
		uint64_t now = mono_ms();
		if (nrestart >= RESTART_BURST &&
		    now - restarts[nrestart % RESTART_BURST] < RESTART_WINDOW_S * 1000u) {
			code = 1;
			break;
		}
		restarts[nrestart++ % RESTART_BURST] = now;
		struct timespec ts = {.tv_sec = RESTART_SEC_MS / 1000};
		nanosleep(&ts, NULL);
	}
	unlink(spec->sup_pidfile);
	_exit(code);
}

int fc_supervise_start(const struct fc_supervise_spec *spec, pid_t *ret_pid, char *errbuf,
		       size_t errlen)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return errf(errbuf, errlen, -errno, "pipe: %s", strerror(errno));
	pid_t a = fork();
	if (a < 0) {
		int r = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return errf(errbuf, errlen, r, "fork: %s", strerror(-r));
	}
	if (a == 0) {
		close(pfd[0]);
		setsid();
		pid_t b = fork();
		if (b != 0)
			_exit(b < 0 ? 1 : 0);
		supervise(spec, pfd[1]);
	}
	close(pfd[1]);
	while (waitpid(a, NULL, 0) < 0 && errno == EINTR)
		;
	char buf[2048];
	size_t len = 0;
	uint64_t deadline = mono_ms() + spec->ready_timeout_ms + STOP_TIMEOUT_MS + 5000;
	for (;;) {
		uint64_t now = mono_ms();
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0)
			break;
		ssize_t k = read(pfd[0], buf + len, sizeof(buf) - 1 - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
		if (memchr(buf, '\n', len) || len == sizeof(buf) - 1)
			break;
	}
	close(pfd[0]);
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (startswith(buf, "READY ")) {
		*ret_pid = (pid_t)strtol(buf + 6, NULL, 10);
		return 0;
	}
	if (startswith(buf, "FAIL "))
		return errf(errbuf, errlen, -EIO, "%s", buf + 5);
	return errf(errbuf, errlen, -EIO,
		    "the supervisor ended without reporting whether falco started");
}

/* Like systemd's RuntimeDirectory=: the pidfiles' directory goes away with falco (when nothing else is in it). */
static void remove_runtime_dir(const char *pidfile)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", pidfile);
	(void)rmdir(dirname(dir));
}

int fc_supervise_stop(const char *sup_pidfile, unsigned timeout_ms, char *errbuf, size_t errlen)
{
	pid_t pid = fc_pidfile_alive(sup_pidfile);
	if (!pid) {
		(void)unlink(sup_pidfile);
		remove_runtime_dir(sup_pidfile);
		return 0;
	}
	if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
		return errf(errbuf, errlen, -errno, "cannot stop the supervisor (pid %d): %s",
			    (int)pid, strerror(errno));
	uint64_t deadline = mono_ms() + timeout_ms;
	while (fc_pidfile_alive(sup_pidfile) == pid && mono_ms() < deadline) {
		struct timespec ts = {.tv_nsec = 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (fc_pidfile_alive(sup_pidfile) == pid) {
		kill(pid, SIGKILL);
		(void)unlink(sup_pidfile);
	}
	remove_runtime_dir(sup_pidfile);
	return 1;
}
