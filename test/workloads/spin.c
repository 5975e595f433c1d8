// spin THREADS SECONDS: THREADS threads burn CPU for SECONDS (0 = until killed).
// With more threads than CPUs they queue on the run queues: a known run-queue wait.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double seconds;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *spin(void *arg)
{
	volatile unsigned long n = 0;
	double end = now() + seconds;
	(void)arg;
	while (seconds == 0 || now() < end)
		for (int i = 0; i < 100000; i++)
			n++;
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 3;
	seconds = argc > 2 ? atof(argv[2]) : 0;
	pthread_t t[256];
	if (threads < 1 || threads > 256) {
		fprintf(stderr, "spin: THREADS must be 1..256\n");
		return 2;
	}
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, spin, NULL);
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return 0;
}
