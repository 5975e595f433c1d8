// forks N: N single-threaded child processes that sleep until the first
// process dies (PR_SET_PDEATHSIG), so killing the one started process ends
// them all at once. Prints `ready <pid>` once every child runs.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0;
	int ready[2];

	if (n <= 0 || pipe(ready)) {
		fprintf(stderr, "usage: forks N\n");
		return 2;
	}
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("forks: fork");
			return 1;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() == 1)
				_exit(0);
			close(ready[0]);
			if (write(ready[1], "", 1) != 1)
				_exit(1);
			close(ready[1]);
			for (;;)
				pause();
		}
	}
	close(ready[1]);
	// One byte per child that runs (and has its death signal set).
	for (long got = 0; got < n;) {
		char buf[4096];
		ssize_t r = read(ready[0], buf, sizeof(buf));

		if (r <= 0) {
			fprintf(stderr, "forks: %ld of %ld children started\n", got, n);
			return 1;
		}
		got += r;
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;)
		pause();
}
