/*
 * log: plain-text logging to stderr, silent by default.
 *
 * Format: "dkv[<rank>] <level> <module>: <message>\n", one line per call.
 * The level is tested before the arguments are evaluated, so a disabled log
 * statement costs one branch. The level and rank are process-wide and set
 * once by dkv_init() (before any thread is started).
 */
#ifndef DKV_LOG_H
#define DKV_LOG_H

typedef enum {
    DKV__LOG_NONE  = 0,
    DKV__LOG_ERROR = 1,
    DKV__LOG_WARN  = 2,
    DKV__LOG_INFO  = 3,
    DKV__LOG_DEBUG = 4,
    DKV__LOG_TRACE = 5
} dkv__log_level_t;

extern dkv__log_level_t dkv__log_level;

/* Parse "error|warn|info|debug|trace|none|" (empty = none). -1 if unknown. */
int dkv__log_parse_level(const char *text);
void dkv__log_setup(dkv__log_level_t level, int rank);
void dkv__log_emit(dkv__log_level_t level, const char *module,
                   const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifndef DKV_LOG_MODULE
#define DKV_LOG_MODULE "dkv"
#endif

#define DKV__LOG(lvl, ...)                                                    \
    do {                                                                      \
        if ((lvl) <= dkv__log_level) {                                        \
            dkv__log_emit((lvl), DKV_LOG_MODULE, __VA_ARGS__);                \
        }                                                                     \
    } while (0)

#define DKV_LOG_ERROR(...) DKV__LOG(DKV__LOG_ERROR, __VA_ARGS__)
#define DKV_LOG_WARN(...)  DKV__LOG(DKV__LOG_WARN, __VA_ARGS__)
#define DKV_LOG_INFO(...)  DKV__LOG(DKV__LOG_INFO, __VA_ARGS__)
#define DKV_LOG_DEBUG(...) DKV__LOG(DKV__LOG_DEBUG, __VA_ARGS__)
#define DKV_LOG_TRACE(...) DKV__LOG(DKV__LOG_TRACE, __VA_ARGS__)

#endif
