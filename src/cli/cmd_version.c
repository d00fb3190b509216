/* berth version */
#include <stdio.h>

#include "cli/cli.h"

int cmd_version(int argc, char **argv)
{
	printf("berth %s\n", BERTH_VERSION);
	return 0;
}
