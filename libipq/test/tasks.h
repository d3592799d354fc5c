/* tasks.h - for the libipq test programs: how many threads the process
 * has, from /proc/self/task. */
#ifndef LIBIPQ_TEST_TASKS_H
#define LIBIPQ_TEST_TASKS_H

#include <dirent.h>

static int threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

#endif
