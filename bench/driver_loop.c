/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Single-syscall-mix loops for bench/driver_events.sh: driver_loop SECONDS MIX prints "iters/s N".
 *   open     open(/etc/hostname) + close            (2 syscalls per iteration)
 *   socket   socket(AF_INET, SOCK_STREAM) + close   (2)
 *   dup      dup(1) + close                          (2)
 *   connect  socket + connect + accept + close + close over loopback TCP (5)
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	double secs, t0, end;
	const char *mix;
	long n = 0;
	int ls;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SECONDS open|socket|dup|connect\n", argv[0]);
		return 2;
	}
	secs = atof(argv[1]);
	mix = argv[2];
	if (strcmp(mix, "open") && strcmp(mix, "socket") && strcmp(mix, "dup") &&
	    strcmp(mix, "connect")) {
		fprintf(stderr, "driver_loop: unknown mix '%s'\n", mix);
		return 2;
	}
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1024) ||
	    getsockname(ls, (struct sockaddr *)&a, &al)) {
		perror("driver_loop: listener");
		return 1;
	}
	t0 = now();
	end = t0 + secs;
	while (now() < end) {
		for (int i = 0; i < 200; i++) {
			int fd;
			if (mix[0] == 'o') {
				fd = open("/etc/hostname", O_RDONLY);
			} else if (mix[0] == 's') {
				fd = socket(AF_INET, SOCK_STREAM, 0);
			} else if (mix[0] == 'd') {
				fd = dup(1);
			} else {
				fd = socket(AF_INET, SOCK_STREAM, 0);
				if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
					int s = accept(ls, NULL, NULL);
					close(s);
				}
			}
			close(fd);
		}
		n += 200;
	}
	printf("iters/s %.0f\n", (double)n / (now() - t0));
	return 0;
}
