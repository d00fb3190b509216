/* banned: functions berth does not use, turned into compile errors (after git's banned.h).
 * Unbounded copies and formats, strtok's hidden state, and gmtime/localtime's shared buffers. */
#ifndef BERTH_BASE_BANNED_H
#define BERTH_BASE_BANNED_H

/* Force-included before every source file: pull in the declaring headers first so their
 * include guards keep the macros below from rewriting libc's own declarations. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BANNED(func) sorry_##func##_is_banned_in_berth

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef gets
#define gets(x) BANNED(gets)

#endif
