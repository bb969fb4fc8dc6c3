/*
 * analysis/proc.c — the front end's child processes and its interrupted flag (see proc.h).
 *
 * Invariants: a pid given to proc_wait/proc_stop is our child, not yet reaped; once one of
 * them reaped it (returned 1/true), the pid is the caller's to forget.  The flag is written
 * only by the signal handler (sig_atomic_t) and reset by proc_catch_signals.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* How often a timed or ticking wait looks (ms). */
#define POLL_MS 20

static volatile sig_atomic_t caught;	/* the last SIGINT/SIGTERM, or 0 */
static volatile sig_atomic_t ncaught;
static struct sigaction saved[2];
static bool catching;

static void on_signal(int sig)
{
	caught = sig;
	ncaught++;
}

void proc_catch_signals(bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	caught = 0;
	ncaught = 0;
	sigaction(SIGINT, &sa, catching ? NULL : &saved[0]);
	sigaction(SIGTERM, &sa, catching ? NULL : &saved[1]);
	catching = true;
}

void proc_restore_signals(void)
{
	if (!catching)
		return;
	sigaction(SIGINT, &saved[0], NULL);
	sigaction(SIGTERM, &saved[1], NULL);
	catching = false;
}

int proc_interrupted(void)
{
	return caught;
}

unsigned proc_interruptions(void)
{
	return (unsigned)ncaught;
}

int proc_open_out(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

/* In the child: fd to std (or /dev/null with mode, or left as it is). */
static void child_stream(int fd, int std, int mode)
{
	if (fd == PROC_DEVNULL) {
		int null = open("/dev/null", mode);

		if (null >= 0 && null != std) {
			dup2(null, std);
			close(null);
		}
	} else if (fd != PROC_KEEP && fd != std) {
		dup2(fd, std);
	}
}

static void child_signals(unsigned flags)
{
	sigset_t none;

	if (flags & PROC_DEFAULT_SIGNALS) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGWINCH, SIG_DFL);
	}
	if (flags & (PROC_UNBLOCK | PROC_DEFAULT_SIGNALS)) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
}

static void __attribute__((noreturn)) child(const struct proc_spec *s)
{
	if (s->flags & PROC_OWN_GROUP)
		setpgid(0, 0);
	child_stream(s->in, STDIN_FILENO, O_RDONLY);
	child_stream(s->out, STDOUT_FILENO, O_WRONLY);
	child_stream(s->err, STDERR_FILENO, O_WRONLY);
	child_signals(s->flags);
	if (s->flags & PROC_CLOSE_FDS)
		close_range(3, ~0U, 0);
	if (s->dir && chdir(s->dir) != 0) {
		if (!(s->flags & PROC_QUIET))
			fprintf(stderr, "cannot enter %s: %s\n", s->dir, strerror(errno));
		_exit(127);
	}
	if (s->setup)
		s->setup(s->setup_arg);
	execvp(s->argv[0], s->argv);
	if (!(s->flags & PROC_QUIET))
		fprintf(stderr, "%s%scannot run %s: %s\n", s->prog ? s->prog : "",
			s->prog ? ": " : "", s->argv[0], strerror(errno));
	_exit(127);
}

pid_t proc_spawn(const struct proc_spec *s)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		child(s);
	return pid;
}

/* Passes the caught signal on to pid, once (*done). */
static void forward(pid_t pid, bool *done)
{
	if (caught && !*done) {
		kill(pid, caught);
		*done = true;
	}
}

/* To its end, blocking: a signal interrupts waitpid (no SA_RESTART) and is passed on. */
static int wait_blocking(pid_t pid, int *status, bool fwd, struct rusage *ru)
{
	bool done = false;

	for (;;) {
		pid_t w = wait4(pid, status, 0, ru);

		if (w == pid)
			return 1;
		if (w < 0 && errno != EINTR)
			return -1;
		if (fwd)
			forward(pid, &done);
	}
}

int proc_wait(pid_t pid, int *status, const struct proc_wait *w)
{
	return proc_wait_usage(pid, status, w, NULL);
}

int proc_wait_usage(pid_t pid, int *status, const struct proc_wait *w, struct rusage *ru)
{
	struct proc_wait all = { -1, true, NULL, NULL };
	double end;
	bool done = false;

	if (!w)
		w = &all;
	if (w->timeout_s < 0 && !w->tick)
		return wait_blocking(pid, status, w->forward, ru);
	end = fe_now_s() + w->timeout_s;
	for (;;) {
		pid_t r = wait4(pid, status, WNOHANG, ru);

		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (w->forward)
			forward(pid, &done);
		if (w->timeout_s >= 0 && fe_now_s() >= end)
			return 0;
		fe_sleep_ms(POLL_MS);
		if (w->tick)
			w->tick(w->arg);
	}
}

int proc_run(const struct proc_spec *s, int *status)
{
	pid_t pid = proc_spawn(s);

	if (pid < 0)
		return -1;
	return proc_wait(pid, status, NULL) == 1 ? 0 : -1;
}

bool proc_ended(pid_t pid, int *status)
{
	return waitpid(pid, status, WNOHANG) == pid;
}

bool proc_stop(pid_t pid, int *status, const int *sigs, const double *grace_s, int n)
{
	struct proc_wait w = { 0, false, NULL, NULL };
	int i;

	for (i = 0; i < n; i++) {
		if (proc_ended(pid, status))
			return true;
		kill(pid, sigs[i]);
		w.timeout_s = grace_s[i];
		if (proc_wait(pid, status, &w) == 1)
			return true;
	}
	return false;
}

int proc_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}
