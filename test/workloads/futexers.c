/*
 * futexers N: N child processes, each waiting for SIGUSR1. Every line "go"
 * on stdin sends SIGUSR1 to each child, which makes one FUTEX_WAKE call
 * (nobody waits: it returns 0) and reports back: a round is exactly one wake
 * call in each of the N processes. "quit" (or end of stdin) ends them all;
 * so does the parent's death (PR_SET_PDEATHSIG). Prints "ready <pid>" once
 * every child runs, and "round <k>" once a round's wakes are done.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100;
	pid_t *kids;
	int done[2];
	static int word;
	char line[64];
	int rounds = 0;
	sigset_t usr1;

	if (n < 1 || pipe(done) || !(kids = calloc(n, sizeof(*kids))))
		return 2;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	for (int i = 0; i < n; i++) {
		pid_t c = fork();

		if (c < 0)
			return 3;
		if (c == 0) {
			int sig;
			char b = 'x';

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(done[0]);
			while (sigwait(&usr1, &sig) == 0) {
				syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
				if (write(done[1], &b, 1) != 1)
					_exit(1);
			}
			_exit(0);
		}
		kids[i] = c;
	}
	close(done[1]);
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4) != 0) {
		char buf[4096];
		int left = n;

		for (int i = 0; i < n; i++)
			kill(kids[i], SIGUSR1);
		while (left > 0) {
			int r = read(done[0], buf, left < (int)sizeof(buf) ? left : (int)sizeof(buf));

			if (r <= 0)
				return 5;
			left -= r;
		}
		printf("round %d\n", ++rounds);
		fflush(stdout);
	}
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	return 0;
}
