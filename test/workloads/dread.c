// dread DEVICE SECONDS BLOCK_KB [seq|rand] [IOPS]: after a "go" line on stdin, O_DIRECT reads
// of BLOCK_KB from DEVICE for SECONDS, one at a time (synchronous), sequential or random,
// paced at IOPS reads per second when given (0 or absent: as fast as it can).
// Prints "reads <n> bytes <n> read_ns <time inside pread>" at the end.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: dread DEVICE SECONDS BLOCK_KB [seq|rand] [IOPS]\n");
		return 2;
	}
	double seconds = atof(argv[2]);
	size_t bs = (size_t)atoi(argv[3]) * 1024;
	int rnd = argc > 4 && strcmp(argv[4], "rand") == 0;
	double iops = argc > 5 ? atof(argv[5]) : 0;
	int fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	unsigned long long size = 0;
	if (ioctl(fd, BLKGETSIZE64, &size) != 0 || size < bs) {
		fprintf(stderr, "dread: cannot size %s\n", argv[1]);
		return 1;
	}
	void *buf;
	if (posix_memalign(&buf, 4096, bs))
		return 1;
	char line[16];
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	unsigned long long blocks = size / bs, off = 0;
	long reads = 0;
	long long bytes = 0;
	double in_read = 0, start = now(), end = start + seconds;
	srand(42);
	while (now() < end) {
		unsigned long long b = rnd ? (unsigned long long)rand() % blocks : off++ % blocks;
		double t0 = now();
		ssize_t n = pread(fd, buf, bs, (off_t)(b * bs));
		in_read += now() - t0;
		if (n <= 0) {
			perror("pread");
			return 1;
		}
		reads++;
		bytes += n;
		if (iops > 0) {
			double due = start + reads / iops;
			double wait = due - now();
			if (wait > 0)
				usleep((useconds_t)(wait * 1e6));
		}
	}
	printf("reads %ld bytes %lld read_ns %.0f\n", reads, bytes, in_read * 1e9);
	fflush(stdout);
	return 0;
}
