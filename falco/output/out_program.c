/* SPDX-License-Identifier: Apache-2.0 */
/*
 * program_output: alerts go to a program's standard input, one line each. The program runs without a shell
 * unless its command line needs one (see out.h); alert text never reaches a command line, only the pipe.
 *
 * keep_alive: one process for the sink's lifetime, spawned at the first alert. Before each write the sink reaps
 * the process if it exited; a write that meets a closed pipe (EPIPE) reaps it too. Either way the alert is written
 * to a fresh process, started after a backoff delay when the previous one lived less than PROGRAM_STABLE_NS (a
 * program that dies at once is not respawned in a tight loop). A line already in the pipe when the program died
 * is lost with the pipe; nothing tells us. Without keep_alive (upstream's default) each alert (or buffered batch)
 * gets a process of its own, whose input is closed and which is waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/strbuf.h"
#include "out.h"
#include "out_sink_util.h"

extern char **environ;

/* a program that lived this long before dying is restarted without delay */
#define PROGRAM_STABLE_NS (10ull * 1000000000ull)
/* at close/reopen: how long the program gets to exit after its input is closed, then after SIGTERM */
#define PROGRAM_EXIT_GRACE_MS 2000
#define PROGRAM_TERM_GRACE_MS 1000

struct program_sink {
	struct out_sink base;
	char *program;
	char **argv; /* one allocation */
	bool keep_alive;
	pid_t pid;
	int fd; /* write end of the program's stdin */
	uint64_t started_ns;
	bool died; /* the last process exited on its own: the next spawn may have to wait */
	struct out_backoff bo;
	struct strbuf buf;
	char *exit_note; /* why the last process ended, for the next error message */
};

/* ---- command line ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

bool out_program_needs_shell(const char *p)
{
	char q = 0;
	bool first_word = true, word_start = true;

	for (; *p; p++) {
		char c = *p;
		if (q == '\'') {
			if (c == '\'')
				q = 0;
			continue;
		}
		if (q == '"') {
			if (c == '\\' && p[1]) {
				p++;
				continue;
			}
			if (c == '"')
				q = 0;
			else if (c == '$' || c == '`')
				return true; /* expansions happen inside double quotes too */
			continue;
		}
		if (c == '\\') {
			if (!p[1])
				return false; /* trailing backslash: split() refuses it */
			p++;
			word_start = false;
			continue;
		}
		if (c == '\'' || c == '"') {
			q = c;
			word_start = false;
			continue;
		}
		if (is_blank(c)) {
			if (!word_start)
				first_word = false;
			word_start = true;
			continue;
		}
		if (strchr("|&;<>()$`*?[]{}\n", c))
			return true;
		if ((c == '#' || c == '~') && word_start)
			return true;
		if (c == '=' && first_word)
			return true; /* VAR=value cmd */
		word_start = false;
	}
	return false;
}

int out_program_split(const char *program, char ***ret_argv)
{
	size_t len = strlen(program);
	/* worst case: every other character starts a word */
	size_t maxw = len / 2 + 2;
	char **argv = malloc((maxw + 1) * sizeof(char *) + len + 1 + maxw);
	if (!argv)
		return -ENOMEM;
	char *out = (char *)(argv + maxw + 1);
	size_t n = 0;
	const char *p = program;
	for (;;) {
		while (is_blank(*p) || *p == '\n')
			p++;
		if (!*p)
			break;
		argv[n++] = out;
		char q = 0;
		for (; *p; p++) {
			char c = *p;
			if (q == '\'') {
				if (c == '\'')
					q = 0;
				else
					*out++ = c;
			} else if (q == '"') {
				if (c == '\\' && p[1] && strchr("\\\"$`\n", p[1]))
					*out++ = *++p;
				else if (c == '"')
					q = 0;
				else
					*out++ = c;
			} else if (c == '\\') {
				if (!p[1]) {
					free(argv);
					return -EINVAL;
				}
				*out++ = *++p;
			} else if (c == '\'' || c == '"') {
				q = c;
			} else if (is_blank(c) || c == '\n') {
				break;
			} else {
				*out++ = c;
			}
		}
		if (q) {
			free(argv);
			return -EINVAL;
		}
		*out++ = '\0';
	}
	if (n == 0) {
		free(argv);
		return -EINVAL;
	}
	argv[n] = NULL;
	*ret_argv = argv;
	return (int)n;
}

/* ---- process lifecycle ---- */

static void describe_status(struct program_sink *ps, int status)
{
	char buf[64];

	if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, sizeof(buf), "ended");
	free(ps->exit_note);
	ps->exit_note = strdup(buf);
}

/* Reaps the program if it has exited. Returns true when it is gone. */
static bool reap_if_exited(struct program_sink *ps)
{
	int status;
	pid_t r;

	if (ps->pid <= 0)
		return true;
	do
		r = waitpid(ps->pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return false;
	if (r == ps->pid)
		describe_status(ps, status);
	ps->pid = -1;
	return true;
}

/* Waits up to ms for the program to exit. */
static bool wait_exit(struct program_sink *ps, unsigned ms)
{
	for (unsigned t = 0;; t += 10) {
		if (reap_if_exited(ps))
			return true;
		if (t >= ms)
			return false;
		struct timespec ts = {.tv_nsec = 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* Closes the program's input and lets it finish: bounded, then SIGTERM, then SIGKILL. */
static void stop_program(struct program_sink *ps, unsigned grace_ms)
{
	if (ps->fd >= 0)
		(void)close(ps->fd);
	ps->fd = -1;
	if (ps->pid <= 0)
		return;
	if (wait_exit(ps, grace_ms))
		return;
	(void)kill(ps->pid, SIGTERM);
	if (wait_exit(ps, PROGRAM_TERM_GRACE_MS))
		return;
	(void)kill(ps->pid, SIGKILL);
	int status;
	while (waitpid(ps->pid, &status, 0) < 0 && errno == EINTR)
		;
	ps->pid = -1;
}

static int spawn(struct program_sink *ps, char *errbuf, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t all, none;
	int pfd[2], r;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return errf(errbuf, errlen, -errno, "cannot create a pipe for '%s': %s",
			    ps->program, strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* dup2 onto 0 clears close-on-exec there; the other end stays ours */
	posix_spawn_file_actions_adddup2(&fa, pfd[0], STDIN_FILENO);
	/* falco ignores SIGPIPE and its threads may block signals: the program starts from defaults */
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	r = -posix_spawnp(&ps->pid, ps->argv[0], &fa, &attr, ps->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	(void)close(pfd[0]);
	if (r < 0) {
		(void)close(pfd[1]);
		ps->pid = -1;
		return errf(errbuf, errlen, r, "cannot start '%s': %s", ps->program, strerror(-r));
	}
	ps->fd = pfd[1];
	ps->started_ns = out_monotonic_ns();
	return 0;
}

/* keep_alive: makes sure a live program is there, waiting out the backoff after a quick death. */
static int ensure_running(struct program_sink *ps, char *errbuf, size_t errlen)
{
	if (ps->pid > 0 && !reap_if_exited(ps))
		return 0;
	if (ps->fd >= 0)
		(void)close(ps->fd);
	ps->fd = -1;
	if (ps->died) {
		if (out_monotonic_ns() - ps->started_ns < PROGRAM_STABLE_NS) {
			if (!out_sink_sleep(&ps->base, out_backoff_next(&ps->bo)))
				return errf(errbuf, errlen, -ECANCELED,
					    "'%s' %s; not restarted: falco is stopping",
					    ps->program, ps->exit_note ? ps->exit_note : "ended");
		} else {
			out_backoff_reset(&ps->bo);
		}
	}
	ps->died = true; /* until proven otherwise: any later exit counts as a death */
	return spawn(ps, errbuf, errlen);
}

static int send_keep_alive(struct program_sink *ps, const char *data, size_t len, char *errbuf,
			   size_t errlen)
{
	/* one retry: the program may have died since the last alert */
	for (int attempt = 0; attempt < 2; attempt++) {
		int r = ensure_running(ps, errbuf, errlen);
		if (r < 0)
			return r;
		r = out_write_all(ps->fd, data, len);
		if (r == 0)
			return 0;
		if (r != -EPIPE)
			return errf(errbuf, errlen, r, "cannot write to '%s': %s", ps->program,
				    strerror(-r));
		/* it closed its input: wait for it briefly, then make sure it is gone */
		stop_program(ps, 200);
	}
	return errf(errbuf, errlen, -EPIPE, "'%s' %s before reading its input", ps->program,
		    ps->exit_note ? ps->exit_note : "closed its input");
}

static int send_once(struct program_sink *ps, const char *data, size_t len, char *errbuf,
		     size_t errlen)
{
	int r = spawn(ps, errbuf, errlen);
	if (r < 0)
		return r;
	r = out_write_all(ps->fd, data, len);
	(void)close(ps->fd);
	ps->fd = -1;
	/* as upstream's pclose(): wait for it (a hung program wedges this sink only) */
	int status;
	while (waitpid(ps->pid, &status, 0) < 0 && errno == EINTR)
		;
	ps->pid = -1;
	if (r < 0 && r != -EPIPE)
		return errf(errbuf, errlen, r, "cannot write to '%s': %s", ps->program,
			    strerror(-r));
	if (r == -EPIPE) {
		describe_status(ps, status);
		return errf(errbuf, errlen, r, "'%s' %s before reading its input", ps->program,
			    ps->exit_note);
	}
	return 0;
}

/* Sends the buffer; current: called from the write of the last alert in it (which reports a failure itself). */
static int program_send(struct program_sink *ps, bool current, char *errbuf, size_t errlen)
{
	int r;

	if (!ps->buf.len)
		return 0;
	if (ps->keep_alive)
		r = send_keep_alive(ps, ps->buf.buf, ps->buf.len, errbuf, errlen);
	else
		r = send_once(ps, ps->buf.buf, ps->buf.len, errbuf, errlen);
	strbuf_reset(&ps->buf);
	out_sink_settle(&ps->base, r, current);
	return r;
}

static int program_write(struct out_sink *s, const struct out_alert *a, char *errbuf, size_t errlen)
{
	struct program_sink *ps = (struct program_sink *)s;

	strbuf_append(&ps->buf, a->line, a->len);
	if (strbuf_appendc(&ps->buf, '\n') < 0) {
		strbuf_reset(&ps->buf);
		out_sink_settle(s, -ENOMEM, false);
		return errf(errbuf, errlen, -ENOMEM, "out of memory buffering for '%s'",
			    ps->program);
	}
	s->held++;
	if (s->buffered && ps->buf.len < OUT_SINK_BUF_FLUSH)
		return 0;
	return program_send(ps, true, errbuf, errlen);
}

static int program_flush(struct out_sink *s, char *errbuf, size_t errlen)
{
	return program_send((struct program_sink *)s, false, errbuf, errlen);
}

/* SIGHUP/SIGUSR1, as upstream: the program is closed and started afresh at the next alert. */
static int program_reopen(struct out_sink *s, char *errbuf, size_t errlen)
{
	struct program_sink *ps = (struct program_sink *)s;
	int r = program_send(ps, false, errbuf, errlen);

	stop_program(ps, PROGRAM_EXIT_GRACE_MS);
	ps->died = false;
	out_backoff_reset(&ps->bo);
	return r;
}

static void program_close(struct out_sink *s)
{
	struct program_sink *ps = (struct program_sink *)s;
	char err[256];

	(void)program_send(ps, false, err, sizeof(err));
	stop_program(ps, PROGRAM_EXIT_GRACE_MS);
	strbuf_done(&ps->buf);
	free(ps->exit_note);
	free(ps->argv);
	free(ps->program);
	free(ps);
}

static const struct out_sink_ops program_ops = {
	.name = "program",
	.write = program_write,
	.flush = program_flush,
	.reopen = program_reopen,
	.close = program_close,
};

struct out_sink *out_program_new(const struct out_program_config *cfg)
{
	struct program_sink *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return NULL;
	ps->base.ops = &program_ops;
	ps->base.buffered = cfg->buffered;
	ps->keep_alive = cfg->keep_alive;
	ps->pid = -1;
	ps->fd = -1;
	strbuf_init(&ps->buf, 0);
	out_backoff_init(&ps->bo, cfg->backoff_min_ms ? cfg->backoff_min_ms : 100,
			 cfg->backoff_max_ms ? cfg->backoff_max_ms : 30000);
	ps->program = strdup(cfg->program ? cfg->program : "");
	if (!ps->program)
		goto fail;
	if (out_program_needs_shell(ps->program)) {
		size_t l = strlen(ps->program) + 1;
		ps->argv = malloc(4 * sizeof(char *) + l);
		if (!ps->argv)
			goto fail;
		char *copy = memcpy((char *)(ps->argv + 4), ps->program, l);
		ps->argv[0] = (char *)"/bin/sh";
		ps->argv[1] = (char *)"-c";
		ps->argv[2] = copy;
		ps->argv[3] = NULL;
	} else {
		int r = out_program_split(ps->program, &ps->argv);
		if (r == -ENOMEM)
			goto fail;
		if (r < 0) {
			/* unbalanced quotes: let the shell report it, as upstream's popen would */
			size_t l = strlen(ps->program) + 1;
			ps->argv = malloc(4 * sizeof(char *) + l);
			if (!ps->argv)
				goto fail;
			ps->argv[0] = (char *)"/bin/sh";
			ps->argv[1] = (char *)"-c";
			ps->argv[2] = memcpy((char *)(ps->argv + 4), ps->program, l);
			ps->argv[3] = NULL;
		}
	}
	return &ps->base;
fail:
	strbuf_done(&ps->buf);
	free(ps->program);
	free(ps);
	return NULL;
}
