/* SPDX-License-Identifier: Apache-2.0 */
/* The production ops table, running programs, and the clock. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "fc.h"

#define PROC_OUTPUT_MAX (64u << 10)

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t real_now_ms(void *data)
{
	return mono_ms();
}

static void real_sleep_ms(void *data, unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

const struct fc_clock_ops fc_clock_real = {
	.now_ms = real_now_ms,
	.sleep_ms = real_sleep_ms,
};

static int real_run(void *data, const char *const *argv, unsigned timeout_ms, char **ret_out,
		    char *errbuf, size_t errlen)
{
	int pfd[2], status = 0;
	char *out = NULL;
	size_t len = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return errf(errbuf, errlen, -errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return errf(errbuf, errlen, r, "fork: %s", strerror(-r));
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		execvp(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	out = malloc(PROC_OUTPUT_MAX + 1);
	uint64_t deadline = mono_ms() + timeout_ms;
	bool timed_out = false;
	for (;;) {
		uint64_t now = mono_ms();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		int n = poll(&p, 1, (int)MIN(deadline - now, 1000u));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		char buf[4096];
		ssize_t k = read(pfd[0], buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (out && len < PROC_OUTPUT_MAX) {
			size_t c = MIN((size_t)k, PROC_OUTPUT_MAX - len);
			memcpy(out + len, buf, c);
			len += c;
		}
	}
	close(pfd[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out)
		out[len] = '\0';
	if (ret_out)
		*ret_out = out;
	else
		free(out);
	if (timed_out)
		return errf(errbuf, errlen, -ETIMEDOUT, "%s did not finish within %u ms", argv[0],
			    timeout_ms);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

const struct fc_proc_ops fc_proc_real = {
	.run = real_run,
};

const struct fc_ops *fc_real_ops(void)
{
	static struct fc_ops ops;
	static bool init;
	if (!init) {
		ops.fs = fc_fs_real;
		ops.systemd = fc_systemd_real;
		ops.kmod = fc_kmod_real;
		ops.http = fc_http_real;
		ops.probe = fc_probe_real;
		ops.proc = fc_proc_real;
		ops.clock = fc_clock_real;
		init = true;
	}
	return &ops;
}
