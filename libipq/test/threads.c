/*
 * threads - the threads of a process that loads libipq with dlopen(), as
 * interpreters do, and creates a handle: ip_queue's library started none,
 * and programs that fork rely on that. Prints the count of
 * /proc/self/task at each step.
 *
 *   threads LIBRARY          (the path of libipq.so.0)
 */
#include <dlfcn.h>
#include <stdio.h>
#include <sys/types.h>
#include "tasks.h"

int main(int argc, char **argv)
{
	void *(*create)(unsigned int, unsigned int);
	int (*set_mode)(const void *, unsigned char, size_t);
	int (*destroy)(void *);
	void *lib, *h;

	if (argc != 2) {
		fprintf(stderr, "usage: threads LIBRARY\n");
		return 2;
	}
	printf("start threads=%d\n", threads());
	lib = dlopen(argv[1], RTLD_NOW);
	if (lib == NULL) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	printf("loaded threads=%d\n", threads());
	*(void **)&create = dlsym(lib, "ipq_create_handle");
	*(void **)&set_mode = dlsym(lib, "ipq_set_mode");
	*(void **)&destroy = dlsym(lib, "ipq_destroy_handle");
	h = create(0, 2 /* PF_INET */);
	if (h == NULL) {
		fprintf(stderr, "ipq_create_handle failed\n");
		return 1;
	}
	printf("created threads=%d\n", threads());
	set_mode(h, 2 /* IPQ_COPY_PACKET */, 0);
	printf("mode threads=%d\n", threads());
	destroy(h);
	printf("destroyed threads=%d\n", threads());
	return 0;
}
