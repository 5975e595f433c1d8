// memwalk MB: one thread walks a random cycle through MB megabytes of memory (one dependent load
// per step, so each step waits for memory) and prints "rate <steps per second>" every 500 ms.
// Where the memory sits (numactl --membind) against where the thread runs sets the latency.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define LINE 64 /* one step per cache line: no two steps share one */

void *volatile sink; /* the walk's end, stored so the compiler keeps every load */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
	if (mb < 1 || mb > 4096) {
		fprintf(stderr, "memwalk: MB must be 1..4096\n");
		return 2;
	}
	size_t n = mb * 1024 * 1024 / LINE;
	char *mem = malloc(n * LINE);
	size_t *order = malloc(n * sizeof *order);
	if (!mem || !order) {
		fprintf(stderr, "memwalk: out of memory\n");
		return 1;
	}
	// A random cyclic permutation (Sattolo): line order[i] points to line order[i + 1].
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	srand(1);
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = ((size_t)rand() * RAND_MAX + rand()) % i;
		size_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		*(void **)(mem + order[i] * LINE) = mem + order[(i + 1) % n] * LINE;
	free(order);
	printf("ready %d\n", getpid());
	fflush(stdout);
	void **p = (void **)mem;
	for (;;) {
		double t0 = now(), t;
		unsigned long steps = 0;
		do {
			for (int i = 0; i < 100000; i++)
				p = (void **)*p;
			steps += 100000;
			sink = p;
		} while ((t = now()) - t0 < 0.5);
		printf("rate %.0f\n", steps / (t - t0));
		fflush(stdout);
	}
}
