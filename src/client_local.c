/*
 * client_local: the client's side of the node-local bulk path (see
 * holder_local.c for the protocol). A large put to a holder on this node
 * asks for room (PUT with DKV__WIRE_FLAG_LOCAL), writes the value into the
 * holder's store with process_vm_writev once the PUT_GRANT names the
 * address, and sends PUT_COMMIT; the holder's PUT_ACK ends the put as
 * usual. A get asks with the same flag; a large value comes back as an
 * address, read with process_vm_readv straight into the caller's buffer,
 * then released (RELEASE).
 *
 * The copies run on the caller's thread inside dramkv calls, so when a
 * call returns nobody touches its buffers; a holder that dies mid-copy
 * makes the copy fail (ESRCH), never this process. If the kernel refuses
 * the copy (EPERM: ptrace restrictions), the path is switched off for the
 * job and the request fails with DKV_ERR_TRANSPORT once.
 *
 * Owner: the thread that called dkv_init.
 */
#define _GNU_SOURCE
#define DKV_LOG_MODULE "client"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "crc32c.h"
#include "fault.h"
#include "log.h"

/* A control message's send still queued after this long cuts the
 * endpoint (the holder stopped reading its queue). */
#define DKV__CTL_WAIT_NS (1000ull * 1000000ull)

int dkv__client_local_ok(const dkv__client_t *c, uint8_t kind, int holder,
                         size_t size)
{
    if (!c->node_copy || !c->peers.local[holder] ||
        (c->peers.pid[holder] == 0)) {
        return 0;
    }
    /* A get always offers it: only the holder knows the value's size. */
    return (kind == DKV__MSG_GET) ||
           ((kind == DKV__MSG_PUT) && (size >= c->rndv_thresh));
}

/*
 * Copy @p len bytes between this process and @p pid's memory at @p addr:
 * into it (@p write) or out of it. DKV_OK, DKV_ERR_PEER_LOST (the process
 * is gone or its memory no longer there) or DKV_ERR_TRANSPORT.
 */
static dkv_status_t copy_remote(dkv__client_t *c, int32_t pid, int write,
                                void *local, uint64_t addr, size_t len)
{
    struct iovec liov, riov;
    size_t       done = 0;
    ssize_t      n;

    if (pid == (int32_t)getpid()) { /* our own holder thread's store */
        if (write) {
            memcpy((void *)(uintptr_t)addr, local, len);
        } else {
            memcpy(local, (const void *)(uintptr_t)addr, len);
        }
        return DKV_OK;
    }
    while (done < len) {
        liov.iov_base = (char *)local + done;
        liov.iov_len  = len - done;
        riov.iov_base = (void *)(uintptr_t)(addr + done);
        riov.iov_len  = len - done;
        n = write ? process_vm_writev(pid, &liov, 1, &riov, 1, 0)
                  : process_vm_readv(pid, &liov, 1, &riov, 1, 0);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if ((n < 0) && (errno == EINTR)) {
            continue;
        }
        if ((n < 0) && ((errno == EPERM) || (errno == ENOSYS))) {
            DKV_LOG_WARN("node-local copy refused (%s): values go through "
                         "UCX from now on", strerror(errno));
            c->node_copy = 0;
            return DKV_ERR_TRANSPORT;
        }
        DKV_LOG_INFO("node-local copy %s pid %d at 0x%llx (%zu of %zu "
                     "bytes done) failed: %s", write ? "to" : "from",
                     (int)pid, (unsigned long long)addr, done, len,
                     (n < 0) ? strerror(errno) : "no progress");
        return DKV_ERR_PEER_LOST;
    }
    return DKV_OK;
}

/* Send a keyless control message about @p req to its holder and wait
 * (bounded) until UCX no longer needs req->ctl. */
static void send_ctl(dkv__client_t *c, struct dkv_request *req, uint8_t kind,
                     dkv_status_t status, uint16_t flags, uint64_t aux)
{
    dkv__wire_hdr_t     fields;
    ucp_request_param_t param;
    ucp_ep_h            ep;
    void               *sreq;
    uint64_t            deadline;

    if (dkv__peers_ep(&c->peers, DKV__PEER_SERVER, req->holder, &ep) !=
        DKV_OK) {
        return; /* a lost holder needs no release */
    }
    memset(&fields, 0, sizeof(fields));
    fields.kind   = kind;
    fields.status = status;
    fields.flags  = flags;
    fields.aux    = aux;
    fields.req_id = dkv__req_id(req);
    fields.secret = c->secret;
    fields.sender = (uint32_t)c->rank;
    dkv__wire_pack(&req->ctl, &fields, NULL, 0);
    memset(&param, 0, sizeof(param));
    sreq = ucp_am_send_nbx(ep, kind, &req->ctl, sizeof(req->ctl), NULL, 0,
                           &param);
    if (!UCS_PTR_IS_PTR(sreq)) {
        return;
    }
    deadline = dkv__now_ns() + DKV__CTL_WAIT_NS;
    while ((ucp_request_check_status(sreq) == UCS_INPROGRESS) &&
           (dkv__now_ns() < deadline)) {
        dkv__worker_progress(&c->worker);
    }
    if (ucp_request_check_status(sreq) == UCS_INPROGRESS) {
        DKV_LOG_WARN("holder %d does not take messages: closing the "
                     "endpoint", req->holder);
        dkv__client_fail_holder(c, req->holder);
        dkv__peers_reset(&c->peers, DKV__PEER_SERVER, req->holder);
    }
    ucp_request_free(sreq);
}

void dkv__client_local_put(dkv__client_t *c, struct dkv_request *req)
{
    dkv_status_t status = DKV_OK;
    uint16_t     flags  = 0;
    uint64_t     aux    = 0;

    /* Copy only into room of a live request: one given up on, or whose
     * connection was cut (its holder may have dropped the room since), is
     * never written. */
    if (!(req->flags & DKV__REQ_ABANDONED) && (req->status == DKV_OK)) {
        dkv__fault_hit(DKV__FAULT_PUT_CLIENT_BEFORE_COPY, dkv__req_key(req));
        status = copy_remote(c, c->peers.pid[req->holder], 1,
                             (void *)req->src, req->local_addr,
                             req->value_len);
        dkv__fault_hit(DKV__FAULT_PUT_CLIENT_BEFORE_COMMIT,
                       dkv__req_key(req));
        if ((status == DKV_OK) && c->checksum) {
            flags = DKV__WIRE_FLAG_VCRC;
            aux   = dkv__crc32c(0, req->src, req->value_len);
        }
    } else {
        status = DKV_ERR_TIMEOUT; /* given up on: drop the room */
    }
    send_ctl(c, req, DKV__MSG_PUT_COMMIT, status, flags, aux);
    req->src = NULL; /* the caller's buffer is free again */
    if (status != DKV_OK) {
        if (req->status == DKV_OK) {
            req->status = status;
        }
        req->flags |= DKV__REQ_REPLY_DONE; /* no ack will come */
    }
    req->flags |= DKV__REQ_SEND_DONE;
}

void dkv__client_local_get(dkv__client_t *c, struct dkv_request *req,
                           void *dest)
{
    dkv_status_t status;

    if (!(req->flags & DKV__REQ_ABANDONED) && (req->status == DKV_OK) &&
        (dest != NULL)) {
        /* Half the value, then the point: the copy dies mid-way. */
        status = copy_remote(c, c->peers.pid[req->holder], 0, dest,
                             req->local_addr, req->value_len / 2);
        dkv__fault_hit(DKV__FAULT_GET_CLIENT_MID_COPY, dkv__req_key(req));
        if (status == DKV_OK) {
            status = copy_remote(c, c->peers.pid[req->holder], 0,
                                 (char *)dest + req->value_len / 2,
                                 req->local_addr + req->value_len / 2,
                                 req->value_len - req->value_len / 2);
        }
        if ((status != DKV_OK) && (req->status == DKV_OK)) {
            req->status = status;
        }
    }
    send_ctl(c, req, DKV__MSG_RELEASE, DKV_OK, 0, 0);
    req->flags &= ~DKV__REQ_LENT;
}
