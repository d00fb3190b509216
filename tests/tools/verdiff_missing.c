/* Stand-in for test_verdiff when libdpkg-dev or librpm-dev is not installed: fails, never skips. */
#include <stdio.h>

int main(void)
{
	printf("FAIL verdiff: libdpkg-dev and librpm-dev are needed (scripts/deps.sh installs them)\n");
	printf("0 passed, 1 failed\n");
	return 1;
}
