// effect MODE ARGS...: the effect suite's workloads, each measuring its own
// progress. Every 250 ms it prints "p T_MS COUNT" (COUNT cumulative since
// start); rpc also prints one "l T_MS RTT_NS" line per request at exit.
// It runs until SIGTERM/SIGINT.
//   duty PCT [N]        N threads (default 1), each wanting PCT% of a CPU in 10 ms periods; COUNT = periods
//                       completed by all of them
//   burn N              N spinning threads; COUNT = loops of 1e5 increments
//   hot N               N spinning threads that start pinned to CPU 0; COUNT as burn
//   pool N ITEM_US      N workers taking items of ITEM_US CPU-microseconds each; COUNT = items done
//   rpc RATE            a client sending RATE requests/s over a pipe to a server thread; COUNT = replies
//   seqread DEV BS      sequential buffered reads of DEV in BS-byte reads; every 16 MiB it drops what it
//                       read from the page cache and opens DEV again (file after file); COUNT = KiB read
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static atomic_ulong count;
static void on_term(int sig) { (void)sig; stop = 1; }

static double now_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void spin_us(double us)
{
	double t0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	volatile unsigned long n = 0;
	while (now_s(CLOCK_THREAD_CPUTIME_ID) - t0 < us / 1e6 && !stop)
		for (int i = 0; i < 200; i++)
			n++;
}

static double pct_arg, item_us;
static int pin0;

static void *duty(void *arg)
{
	(void)arg;
	double period = 0.01, work = period * pct_arg / 100.0, next = now_s(CLOCK_MONOTONIC);
	while (!stop) {
		double c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		volatile unsigned long n = 0;
		while (!stop && now_s(CLOCK_THREAD_CPUTIME_ID) - c0 < work)
			for (int i = 0; i < 1000; i++)
				n++;
		next += period;
		double t = now_s(CLOCK_MONOTONIC);
		if (next < t)
			next = t; /* behind: the missed periods are dropped */
		else
			atomic_fetch_add(&count, 1);
		struct timespec ts = { (time_t)next, (long)((next - (time_t)next) * 1e9) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	return NULL;
}

static void *burn(void *arg)
{
	(void)arg;
	if (pin0) {
		cpu_set_t s;
		CPU_ZERO(&s);
		CPU_SET(0, &s);
		sched_setaffinity(0, sizeof s, &s);
	}
	while (!stop) {
		volatile unsigned long n = 0;
		for (int i = 0; i < 100000; i++)
			n++;
		atomic_fetch_add(&count, 1);
	}
	return NULL;
}

static void *pool(void *arg)
{
	(void)arg;
	while (!stop) {
		spin_us(item_us);
		atomic_fetch_add(&count, 1);
	}
	return NULL;
}

static int req[2], rep[2];
static double rpc_rate;
static long *lat_t, *lat_ns;
static long nlat, maxlat = 4000000;

static void *server(void *arg)
{
	(void)arg;
	char c;
	while (read(req[0], &c, 1) == 1) {
		spin_us(20); /* a little work per request */
		if (write(rep[1], &c, 1) != 1)
			break;
	}
	return NULL;
}

static void *client(void *arg)
{
	double start = *(double *)arg, gap = 1.0 / rpc_rate, next = now_s(CLOCK_MONOTONIC);
	char c = 'x';
	while (!stop) {
		double t0 = now_s(CLOCK_MONOTONIC);
		if (write(req[1], &c, 1) != 1 || read(rep[0], &c, 1) != 1)
			break;
		double t1 = now_s(CLOCK_MONOTONIC);
		if (nlat < maxlat) {
			lat_t[nlat] = (long)((t0 - start) * 1000);
			lat_ns[nlat++] = (long)((t1 - t0) * 1e9);
		}
		atomic_fetch_add(&count, 1);
		next += gap;
		if (next < t1)
			next = t1;
		struct timespec ts = { (time_t)next, (long)((next - (time_t)next) * 1e9) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: effect duty PCT [N] | burn N | hot N | pool N ITEM_US | rpc RATE | seqread DEV BS\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	const char *mode = argv[1];
	int n = argc > 2 ? atoi(argv[2]) : 1;
	double start = now_s(CLOCK_MONOTONIC);
	pthread_t th[64];
	int nth = 0;
	int fd = -1;
	long bs = 0;
	char *buf = NULL;
	if (!strcmp(mode, "duty")) {
		pct_arg = atof(argv[2]);
		int k = argc > 3 ? atoi(argv[3]) : 1;
		for (int i = 0; i < k && i < 64; i++)
			pthread_create(&th[nth++], NULL, duty, NULL);
	} else if (!strcmp(mode, "burn") || !strcmp(mode, "hot")) {
		pin0 = !strcmp(mode, "hot");
		for (int i = 0; i < n && i < 64; i++)
			pthread_create(&th[nth++], NULL, burn, NULL);
	} else if (!strcmp(mode, "pool")) {
		item_us = argc > 3 ? atof(argv[3]) : 1000;
		for (int i = 0; i < n && i < 64; i++)
			pthread_create(&th[nth++], NULL, pool, NULL);
	} else if (!strcmp(mode, "rpc")) {
		rpc_rate = atof(argv[2]);
		lat_t = malloc(maxlat * sizeof(long));
		lat_ns = malloc(maxlat * sizeof(long));
		if (pipe(req) || pipe(rep)) {
			perror("pipe");
			return 1;
		}
		pthread_create(&th[nth++], NULL, server, NULL);
		pthread_create(&th[nth++], NULL, client, &start);
	} else if (!strcmp(mode, "seqread")) {
		fd = open(argv[2], O_RDONLY);
		bs = argc > 3 ? atol(argv[3]) : 4096;
		if (fd < 0 || bs <= 0 || !(buf = malloc(bs))) {
			perror("seqread");
			return 2;
		}
	} else {
		fprintf(stderr, "effect: unknown mode %s\n", mode);
		return 2;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	double next = start + 0.25;
	off_t off = 0, dropped = 0;
	while (!stop) {
		if (fd >= 0) {
			ssize_t r = read(fd, buf, bs);
			if (r <= 0) {
				posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
				lseek(fd, 0, SEEK_SET);
				off = dropped = 0;
				continue;
			}
			off += r;
			atomic_fetch_add(&count, r);
			if (off - dropped >= (16 << 20)) {
				// One 16 MiB "file" done: drop it from the page cache and open the next, as a job that
				// reads file after file does. Each open takes the device's read_ahead_kb as it is then
				// (the kernel copies it into the open file), so a change reaches the reader here.
				posix_fadvise(fd, dropped, off - dropped, POSIX_FADV_DONTNEED);
				dropped = off;
				close(fd);
				fd = open(argv[2], O_RDONLY);
				if (fd < 0 || lseek(fd, off, SEEK_SET) != off) {
					perror("seqread: reopen");
					return 1;
				}
			}
			if (now_s(CLOCK_MONOTONIC) < next)
				continue;
		} else {
			struct timespec ts = { (time_t)next, (long)((next - (time_t)next) * 1e9) };
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
		unsigned long c = atomic_load(&count);
		printf("p %ld %lu\n", (long)((now_s(CLOCK_MONOTONIC) - start) * 1000), fd >= 0 ? c / 1024 : c);
		fflush(stdout);
		next += 0.25;
	}
	if (!strcmp(mode, "rpc")) {
		close(req[1]);
		for (long i = 0; i < nlat; i++)
			printf("l %ld %ld\n", lat_t[i], lat_ns[i]);
	}
	printf("end\n");
	fflush(stdout);
	return 0;
}
