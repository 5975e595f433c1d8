// pingpong ROUNDS: two threads pass a byte back and forth over two pipes ROUNDS times
// (0 = until killed). Every round is two voluntary switches and two wakeups.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int ab[2], ba[2];
static long rounds;

static void *pong(void *arg)
{
	char c;
	(void)arg;
	for (long i = 0; rounds == 0 || i < rounds; i++) {
		if (read(ab[0], &c, 1) != 1 || write(ba[1], &c, 1) != 1)
			break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	char c = 'x';
	rounds = argc > 1 ? atol(argv[1]) : 0;
	if (pipe(ab) || pipe(ba)) {
		perror("pipe");
		return 1;
	}
	pthread_create(&t, NULL, pong, NULL);
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (long i = 0; rounds == 0 || i < rounds; i++) {
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			break;
	}
	close(ab[1]);
	pthread_join(t, NULL);
	return 0;
}
