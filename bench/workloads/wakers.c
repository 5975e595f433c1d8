// wakers PROCS THREADS PERIOD_MS: PROCS processes of THREADS threads each (the
// main thread is one of them); every thread sleeps PERIOD_MS, wakes, and sleeps
// again until killed, so each one is a task that ran in every interval longer
// than PERIOD_MS. Prints `ready <pid>` once every thread of every process
// runs. The first process dies with the one that started it, the others with
// the first one (PR_SET_PDEATHSIG), and they hold its stdout until then: a
// reader sees end-of-file when all are gone.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

// 10,000 threads of the default 8 MiB stacks would reserve 80 GiB of address space; they need a few KiB.
#define STACK_SIZE (64 * 1024)

static long period_ms;

static void *sleeper(void *arg)
{
	// Spread the first wakeups over one period, so the threads do not wake in lockstep.
	long offset_ns = ((long)(size_t)arg * 7919L % 1000L) * period_ms * 1000L;
	struct timespec ts = { offset_ns / 1000000000L, offset_ns % 1000000000L };

	nanosleep(&ts, NULL);
	ts.tv_sec = period_ms / 1000;
	ts.tv_nsec = (period_ms % 1000) * 1000000L;
	for (;;)
		nanosleep(&ts, NULL);
	return NULL;
}

// Start threads-1 sleepers; the caller becomes the last one.
static int start_threads(long threads, long first)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (long i = 1; i < threads; i++) {
		if (pthread_create(&t, &attr, sleeper, (void *)(size_t)(first + i))) {
			perror("wakers: pthread_create");
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	long procs = argc > 1 ? atol(argv[1]) : 1;
	long threads = argc > 2 ? atol(argv[2]) : 10;
	int ready[2];
	pid_t leader = getpid();
	char c = 1;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	period_ms = argc > 3 ? atol(argv[3]) : 500;
	if (procs < 1 || threads < 1 || period_ms < 1) {
		fprintf(stderr, "usage: wakers PROCS>=1 THREADS>=1 PERIOD_MS>=1\n");
		return 2;
	}
	if (pipe(ready)) {
		perror("wakers: pipe");
		return 1;
	}
	for (long p = 1; p < procs; p++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("wakers: fork");
			return 1;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != leader)
				_exit(0);
			close(ready[0]);
			if (start_threads(threads, p * threads) || write(ready[1], &c, 1) != 1)
				_exit(1);
			close(ready[1]);
			sleeper((void *)(size_t)(p * threads));
		}
	}
	close(ready[1]);
	if (start_threads(threads, 0))
		return 1;
	for (long p = 1; p < procs; p++) {
		if (read(ready[0], &c, 1) != 1) {
			fprintf(stderr, "wakers: a process failed to start its threads\n");
			return 1;
		}
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	sleeper(NULL);
	return 0;
}
