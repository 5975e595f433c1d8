// mutex THREADS ITERATIONS [CS_LOOPS] [OUTSIDE_LOOPS]: THREADS threads share ITERATIONS turns
// of "lock one mutex, spin CS_LOOPS inside, unlock, spin OUTSIDE_LOOPS outside". The total work
// is the same for any THREADS, so more threads only add contention: futex waits on the lock,
// and run-queue waits once there are more threads than CPUs. Exits 0 when all turns are done.
// Before exiting it prints the kernel's own accounting summed over its threads, each read by
// the thread itself just before it ends (ground truth for `tuner record`):
//   truth oncpu_ns=N run_delay_ns=N voluntary=N involuntary=N
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long cs_loops = 20000, out_loops = 20000;
static volatile unsigned long shared;

struct share {
	long turns;
};

static pthread_mutex_t truth_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long t_oncpu, t_delay, t_vol, t_invol;

// Add this thread's schedstat (on-CPU ns, run-queue wait ns) and switch counts to the totals.
static void add_own_truth(void)
{
	char line[256];
	unsigned long long on = 0, delay = 0, vol = 0, invol = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");
	if (f) {
		if (fscanf(f, "%llu %llu", &on, &delay) != 2)
			on = delay = 0;
		fclose(f);
	}
	f = fopen("/proc/thread-self/status", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "voluntary_ctxt_switches:", 24))
				vol = strtoull(line + 24, NULL, 10);
			else if (!strncmp(line, "nonvoluntary_ctxt_switches:", 27))
				invol = strtoull(line + 27, NULL, 10);
		}
		fclose(f);
	}
	pthread_mutex_lock(&truth_lock);
	t_oncpu += on;
	t_delay += delay;
	t_vol += vol;
	t_invol += invol;
	pthread_mutex_unlock(&truth_lock);
}

static void *worker(void *arg)
{
	struct share *s = arg;
	volatile unsigned long local = 0;
	for (long t = 0; t < s->turns; t++) {
		pthread_mutex_lock(&lock);
		for (long i = 0; i < cs_loops; i++)
			shared++;
		pthread_mutex_unlock(&lock);
		for (long i = 0; i < out_loops; i++)
			local++;
	}
	add_own_truth();
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	long iterations = argc > 2 ? atol(argv[2]) : 2000;
	if (argc > 3)
		cs_loops = atol(argv[3]);
	if (argc > 4)
		out_loops = atol(argv[4]);
	if (threads < 1 || threads > 256 || iterations < 1 || cs_loops < 0 || out_loops < 0) {
		fprintf(stderr, "usage: mutex THREADS(1..256) ITERATIONS [CS_LOOPS] [OUTSIDE_LOOPS]\n");
		return 2;
	}
	pthread_t t[256];
	struct share s[256];
	for (int i = 0; i < threads; i++) {
		// Spread the remainder so the total is exactly ITERATIONS.
		s[i].turns = iterations / threads + (i < iterations % threads);
		pthread_create(&t[i], NULL, worker, &s[i]);
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	add_own_truth();
	printf("truth oncpu_ns=%llu run_delay_ns=%llu voluntary=%llu involuntary=%llu\n", t_oncpu, t_delay, t_vol, t_invol);
	return 0;
}
