// duty PERCENT PERIOD_MS SECONDS: one thread that wants PERCENT% of a CPU: in
// every period of PERIOD_MS it works until it has used PERCENT% of the period
// in CPU time, then sleeps until the next period (0 SECONDS = until killed).
// A period it could not finish in time is dropped, not made up, so its demand
// stays PERCENT% however starved it is. Progress is its CPU time
// (/proc/PID/schedstat) and the periods it completed, printed at exit.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double pct = argc > 1 ? atof(argv[1]) : 40;
	double period = (argc > 2 ? atof(argv[2]) : 10) / 1000.0;
	double seconds = argc > 3 ? atof(argv[3]) : 0;
	if (pct <= 0 || pct > 100 || period <= 0) {
		fprintf(stderr, "duty: PERCENT must be 1..100 and PERIOD_MS positive\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	double work = period * pct / 100.0;
	double start = clock_s(CLOCK_MONOTONIC);
	double next = start;
	unsigned long done = 0;
	volatile unsigned long n = 0;
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (!stop && (seconds == 0 || clock_s(CLOCK_MONOTONIC) - start < seconds)) {
		double cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		while (!stop && clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu0 < work)
			for (int i = 0; i < 1000; i++)
				n++;
		done++;
		next += period;
		double now = clock_s(CLOCK_MONOTONIC);
		if (next < now)
			next = now; /* behind: drop the missed periods */
		struct timespec ts = { (time_t)next, (long)((next - (time_t)next) * 1e9) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	printf("periods %lu\n", done);
	return 0;
}
