/*
 * stage_wire: packing and strict parsing of the staging payloads (see
 * stage_wire.h). Every length is checked against what is left before it is
 * used, so no payload from the network can make a reader go out of bounds.
 */
#include "stage_wire.h"

#include <string.h>

#include "status.h"

size_t dkv__list_entry_pack(void *out, const char *key, size_t key_len,
                            uint64_t size)
{
    char    *p   = out;
    uint32_t len = (uint32_t)key_len;

    memcpy(p, &len, sizeof(len));
    memcpy(p + sizeof(len), &size, sizeof(size));
    memcpy(p + sizeof(len) + sizeof(size), key, key_len);
    return dkv__list_entry_size(key_len);
}

int dkv__list_entry_next(const void *buf, size_t len, size_t *pos,
                         const char **key_p, size_t *key_len_p,
                         uint64_t *size_p)
{
    const char *p = (const char *)buf + *pos;
    size_t      left;
    uint32_t    key_len;

    if (*pos >= len) {
        return (*pos == len) ? 0 : -1;
    }
    left = len - *pos;
    if (left < dkv__list_entry_size(0)) {
        return -1;
    }
    memcpy(&key_len, p, sizeof(key_len));
    if ((key_len == 0) || (key_len > DKV_KEY_MAX) ||
        (left - dkv__list_entry_size(0) < key_len)) {
        return -1;
    }
    memcpy(size_p, p + sizeof(key_len), sizeof(*size_p));
    *key_p     = p + dkv__list_entry_size(0);
    *key_len_p = key_len;
    *pos += dkv__list_entry_size(key_len);
    return 1;
}

dkv_status_t dkv__drain_req_parse(const void *buf, size_t len,
                                  dkv__drain_req_t *req_p, const char **path_p,
                                  const uint8_t **dead_p)
{
    dkv__drain_req_t req;
    const char      *path;

    if ((buf == NULL) || (len < sizeof(req))) {
        return DKV_ERR_PROTOCOL;
    }
    memcpy(&req, buf, sizeof(req));
    path = (const char *)buf + sizeof(req);
    if ((req.dead_len > DKV__DRAIN_DEAD_MAX) || (req.nfiles == 0) ||
        (req.index >= req.nfiles) || (req.path_len == 0) ||
        (req.path_len > DKV__DRAIN_PATH_MAX) ||
        (len - sizeof(req) != (size_t)req.path_len + req.dead_len) ||
        (memchr(path, '\0', req.path_len) != NULL)) {
        return DKV_ERR_PROTOCOL;
    }
    *req_p  = req;
    *path_p = path;
    *dead_p = (req.dead_len > 0) ? (const uint8_t *)path + req.path_len
                                 : NULL;
    return DKV_OK;
}

dkv_status_t dkv__drain_info_check(const void *buf, size_t len,
                                   dkv__drain_info_t *info_p)
{
    dkv__drain_info_t info;

    if ((buf == NULL) || (len != sizeof(info))) {
        return DKV_ERR_PROTOCOL;
    }
    memcpy(&info, buf, sizeof(info));
    if (!dkv__status_is_known(info.status) || (info.done > 1) ||
        (info.committed > 1) || !dkv__status_is_known(info.commit_status) ||
        (info.phase > DKV__DRAIN_PHASE_COMMIT) ||
        (info.nfiles == 0) || (info.index >= info.nfiles) ||
        (info.bytes_written > info.bytes_total) ||
        (info.keys_written > info.keys_total) ||
        (memchr(info.file.name, '\0', sizeof(info.file.name)) == NULL) ||
        (memchr(info.why, '\0', sizeof(info.why)) == NULL)) {
        return DKV_ERR_PROTOCOL;
    }
    *info_p = info;
    return DKV_OK;
}
