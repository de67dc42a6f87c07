/*
 * log: one line per message on stderr, "dkv[<rank>] <level> <module>: ...".
 *
 * The level and rank are process-wide; dkv__log_setup() writes them once
 * from dkv_init() before any thread starts, and every thread only reads
 * them afterwards. Each line is formatted into a stack buffer and handed to
 * stdio in one call, so lines from concurrent threads never interleave.
 * Lines longer than the buffer are cut and still end with a newline.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define DKV__LOG_LINE_MAX 1024

dkv__log_level_t dkv__log_level = DKV__LOG_NONE;

static int log_rank = -1;

static const char *const level_names[] = {"none", "error", "warn",
                                          "info", "debug", "trace"};

int dkv__log_parse_level(const char *text)
{
    size_t i;

    if ((text == NULL) || (text[0] == '\0')) {
        return DKV__LOG_NONE;
    }
    for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(text, level_names[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

void dkv__log_setup(dkv__log_level_t level, int rank)
{
    dkv__log_level = level;
    log_rank       = rank;
}

static int format_prefix(char *line, size_t size, dkv__log_level_t level,
                         const char *module)
{
    const char *name = "?";

    if ((level >= DKV__LOG_NONE) && (level <= DKV__LOG_TRACE)) {
        name = level_names[level];
    }
    if (log_rank < 0) {
        return snprintf(line, size, "dkv[?] %s %s: ", name, module);
    }
    return snprintf(line, size, "dkv[%d] %s %s: ", log_rank, name, module);
}

void dkv__log_emit(dkv__log_level_t level, const char *module, const char *fmt,
                   ...)
{
    char line[DKV__LOG_LINE_MAX];
    size_t len;
    va_list ap;
    int n;

    /* An encoding error leaves the buffer undefined: drop that part. */
    n = format_prefix(line, sizeof(line) - 1, level, module);
    if (n < 0) {
        line[0] = '\0';
    }
    len = strlen(line);

    va_start(ap, fmt);
    n = vsnprintf(line + len, sizeof(line) - 1 - len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        line[len] = '\0';
    }
    len = strlen(line);

    /* One byte was kept back above, so the newline always fits. */
    line[len]     = '\n';
    line[len + 1] = '\0';
    fputs(line, stderr);
}
