// lockwait THREADS SECONDS HOLD_US [sleep]: THREADS threads take one pthread mutex in a loop for
// SECONDS after a "go" line on stdin, holding it HOLD_US microseconds each time: spinning, or
// with "sleep" sleeping (lock contention that needs almost no CPU, so it stays lock-bound on a
// machine that other work keeps busy).
// Each thread measures its own time inside pthread_mutex_lock(); at the end the program
// prints "lock_ns <sum over threads> locks <count>": the ground truth for futex wait time.
// The main thread polls instead of blocking in pthread_join, so every futex wait of the
// process is a wait for the mutex.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static double seconds, hold_us;
static int hold_sleeping;
static volatile int go;
static int finished; /* workers done; main polls it so that it never waits in a futex itself */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct result {
	double lock_s;
	long locks;
};

static void *worker(void *arg)
{
	struct result *r = arg;
	while (!go)
		usleep(1000);
	double end = now() + seconds;
	while (now() < end) {
		double t0 = now();
		pthread_mutex_lock(&m);
		double t1 = now();
		r->lock_s += t1 - t0;
		r->locks++;
		double until = t1 + hold_us / 1e6;
		if (hold_sleeping)
			usleep((useconds_t)hold_us);
		else
			while (now() < until)
				;
		pthread_mutex_unlock(&m);
		usleep(50);
	}
	__atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 4;
	seconds = argc > 2 ? atof(argv[2]) : 2;
	hold_us = argc > 3 ? atof(argv[3]) : 200;
	hold_sleeping = argc > 4 && strcmp(argv[4], "sleep") == 0;
	pthread_t t[64];
	struct result r[64];
	char line[16];
	if (threads < 1 || threads > 64) {
		fprintf(stderr, "lockwait: THREADS must be 1..64\n");
		return 2;
	}
	memset(r, 0, sizeof(r));
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, &r[i]);
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	go = 1;
	while (__atomic_load_n(&finished, __ATOMIC_SEQ_CST) < threads)
		usleep(1000);
	double lock_s = 0;
	long locks = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		lock_s += r[i].lock_s;
		locks += r[i].locks;
	}
	printf("lock_ns %.0f locks %ld\n", lock_s * 1e9, locks);
	fflush(stdout);
	return 0;
}
