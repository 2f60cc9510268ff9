// persistence/file_journal.c: the file journal: records appended to
// segment files (segment.c, record.c) by the reactor thread, with group
// commit, and an in-memory index per entity.
//
// Roles: the public calls run on any thread; they encode their records
//   (checksums included) on the calling thread, then hand a request to
//   the reactor (cst_reactor_submit). Everything else - the index, the
//   segments, the commit - belongs to the reactor thread, so it needs no
//   lock: the submit's release/acquire pair publishes each request.
// Group commit: a persist or a snapshot joins the pending list. When no
//   commit is in flight, a NOP SQE is queued; its completion arrives
//   after the reactor has run every request queued with it, and starts a
//   commit of everything pending (at most max_batch records): the
//   -ESTALE checks, one buffer, one write (continued on a short write),
//   then one fdatasync after the write has completed. Only then is each
//   done called with CASTY_OK and the index updated; on any error all
//   get the error, the segment is truncated back to where the commit
//   began (so no half batch remains for recovery to meet between later
//   records) and the reservations are rolled back. What arrives while a
//   commit is in flight starts the next commit as soon as it completes.
// Reads: load and load_snapshot pread on the reactor thread (they run at
//   recovery, and keep the index single-threaded); every record read is
//   checked again (CRC, kind, entity, seq) and a bad one ends the load
//   with CASTY_ECORRUPT before it reaches replay. Loads see acknowledged
//   events only.
// Snapshots live in the same segments (kind snapshot, a batch of one),
//   durable by the same fdatasync; the newest by seq counts (the later
//   on a tie).
// Close: sets `closed` (new calls get CASTY_ESTOPPED), then a request
//   waits on the reactor until nothing is pending or in flight.
#include <errno.h>
#include <liburing.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <casty/journal.h>
#include <casty/log.h>

#include "persistence/entity_map.h"
#include "persistence/record.h"
#include "persistence/segment.h"
#include "runtime/alloc.h"
#include "runtime/oneshot.h"
#include "runtime/system.h"

#define DEFAULT_SEGMENT_BYTES (64ull << 20)
#define DEFAULT_MAX_BATCH 4096u

// Where one record is: its segment (index in the list), offset, length.
typedef struct record_loc {
	uint64_t offset;
	uint32_t seg;
	uint32_t len;
} record_loc;

typedef struct fj_entity {
	uint64_t    reserved; // highest seq accepted into a commit
	record_loc *events;   // durable events: events[i] has seq i + 1
	size_t      count, cap;
	bool        has_snapshot;
	uint64_t    snapshot_seq;
	record_loc  snapshot;
} fj_entity;

enum fj_kind { FJ_PERSIST, FJ_SNAPSHOT, FJ_LOAD, FJ_LOAD_SNAPSHOT };

typedef struct fj_req {
	cst_reactor_req        req; // first: the reactor hands this back
	struct file_journal   *j;
	struct fj_req         *next; // in the pending or the commit list
	enum fj_kind           kind;
	size_t                 alloc_size;
	size_t                 entity_len;
	const char            *entity; // NUL-terminated, inside this block
	uint64_t               seq;    // first_seq, snapshot seq, from_seq
	size_t                 n;      // records in buf
	const uint8_t         *buf;    // encoded records, inside this block
	size_t                 buf_len;
	uint64_t               offset; // where buf went, once committed
	casty_journal_done_fn  done;
	casty_journal_replay_fn replay;
	casty_journal_snapshot_fn snapshot_done;
	void                  *arg;
} fj_req;

typedef struct close_waiter {
	cst_reactor_req      req;
	struct file_journal *j;
	cst_oneshot          done;
} close_waiter;

typedef struct file_journal {
	casty_journal base;
	cst_reactor  *reactor;
	uint64_t      segment_bytes;
	uint32_t      max_batch;
	// Set once by close; acquire/release pairs with the calls' loads so
	// that a call after close sees it (calls racing close are a caller
	// bug the flag only makes likelier to be caught).
	_Atomic bool closed;

	// Reactor thread only (and the opener before, the closer after).
	cst_segment_list segs;
	cst_entity_map   entities;
	fj_req          *pending_head, *pending_tail;
	fj_req          *commit; // the commit in flight, in order
	bool             in_flight, kick_armed;
	int              broken; // an error that stops all writes
	uint8_t         *cbuf;   // the commit's bytes
	size_t           cbuf_cap, clen, cwritten;
	uint64_t         cstart; // file offset of the commit
	cst_reactor_completion kick, wrote, synced;
	uint8_t         *rbuf; // read buffer for loads
	size_t           rbuf_cap;
	close_waiter    *closer;
} file_journal;

static fj_entity *
find_entity(file_journal *j, const char *id, size_t len, bool create)
{
	fj_entity *e = cst_entity_map_find(&j->entities, id, len);
	if (e != NULL || !create) {
		return e;
	}
	e = cst_calloc(sizeof(*e));
	if (e != NULL && cst_entity_map_insert(&j->entities, id, len, e) != 0) {
		cst_free_sized(e, sizeof(*e));
		e = NULL;
	}
	return e;
}

static int
append_loc(fj_entity *e, record_loc loc)
{
	if (e->count == e->cap) {
		size_t      cap = e->cap == 0 ? 8 : e->cap * 2;
		record_loc *grown = cst_alloc(cap * sizeof(*grown));
		if (grown == NULL) {
			return -ENOMEM;
		}
		if (e->count > 0) {
			memcpy(grown, e->events, e->count * sizeof(*grown));
		}
		cst_free_sized(e->events, e->cap * sizeof(*grown));
		e->events = grown;
		e->cap = cap;
	}
	e->events[e->count++] = loc;
	return 0;
}

static void
note_snapshot(fj_entity *e, uint64_t seq, record_loc loc)
{
	if (!e->has_snapshot || seq >= e->snapshot_seq) {
		e->has_snapshot = true;
		e->snapshot_seq = seq;
		e->snapshot = loc;
	}
}

// The recovery scan's visitor: builds the index, refuses a sequence
// number that does not follow the entity's highest.
static int
index_record(void *arg, size_t seg_index, uint64_t offset,
	const cst_record *rec)
{
	file_journal *j = arg;
	fj_entity    *e = find_entity(j, rec->entity, rec->entity_len, true);
	record_loc    loc = {.offset = offset,
		   .seg = (uint32_t)seg_index,
		   .len = rec->total_len};
	if (e == NULL) {
		return -1;
	}
	if (rec->kind == CST_RECORD_SNAPSHOT) {
		note_snapshot(e, rec->seq, loc);
		return 0;
	}
	if (rec->seq != e->count + 1 || append_loc(e, loc) != 0) {
		return -1;
	}
	e->reserved = e->count;
	return 0;
}

static void
free_req(fj_req *r)
{
	cst_free_sized(r, r->alloc_size);
}

// ---- The commit (reactor thread) ----

static void start_commit(file_journal *j);
static void maybe_finish_close(file_journal *j);

// The tail of every completion: start the next commit, then let a
// waiting close go. Nothing may touch j after this returns.
static void
after_commit(file_journal *j)
{
	start_commit(j);
	maybe_finish_close(j);
}

static void
maybe_finish_close(file_journal *j)
{
	if (j->closer == NULL || j->in_flight || j->kick_armed ||
	    j->pending_head != NULL) {
		return;
	}
	close_waiter *w = j->closer;
	j->closer = NULL;
	// Then the closer may free the journal: touch nothing.
	cst_oneshot_signal(&w->done);
}

static void
kicked(cst_reactor *r, cst_reactor_completion *c, int res, uint32_t flags)
{
	(void)r;
	(void)res;
	(void)flags;
	file_journal *j = (file_journal *)((char *)c -
					   offsetof(file_journal, kick));
	j->kick_armed = false;
	after_commit(j);
}

static void
arm_kick(file_journal *j)
{
	if (j->kick_armed || j->in_flight) {
		return;
	}
	struct io_uring_sqe *sqe = cst_reactor_sqe(j->reactor, &j->kick);
	if (sqe == NULL) {
		start_commit(j); // no ring space: commit what is here now
		return;
	}
	io_uring_prep_nop(sqe);
	j->kick_armed = true;
}

// Calls done for every request of the commit and frees them.
static void
finish_commit(file_journal *j, int rc)
{
	fj_req *r = j->commit;
	j->commit = NULL;
	j->in_flight = false;
	while (r != NULL) {
		fj_req *next = r->next;
		r->done(r->arg, rc);
		free_req(r);
		r = next;
	}
}

static void
fail_commit(file_journal *j, int err)
{
	cst_segment *seg = &j->segs.seg[j->segs.count - 1];

	// Cut what this commit may have written, so that a later commit
	// never follows a half batch; if that fails, stop writing at all.
	if (ftruncate(seg->fd, (off_t)j->cstart) != 0) {
		j->broken = -errno;
		casty_log_error(NULL,
			"journal: %s: cannot undo a failed write (%s); the "
			"journal refuses further writes",
			j->segs.dir, strerror(errno));
	}
	for (fj_req *r = j->commit; r != NULL; r = r->next) {
		if (r->kind == FJ_PERSIST) {
			fj_entity *e = find_entity(
				j, r->entity, r->entity_len, false);
			e->reserved = e->count; // nothing else is in flight
		}
	}
	casty_log_error(NULL, "journal: %s: commit failed: %s", j->segs.dir,
		casty_strerror(err));
	finish_commit(j, err);
}

// The commit is durable: index its records, acknowledge them.
static void
commit_durable(file_journal *j)
{
	uint32_t seg_index = (uint32_t)(j->segs.count - 1);
	int      rc = CASTY_OK;

	j->segs.seg[seg_index].size = j->cstart + j->clen;
	for (fj_req *r = j->commit; r != NULL; r = r->next) {
		fj_entity *e = find_entity(j, r->entity, r->entity_len, false);
		size_t     pos = 0;
		while (pos < r->buf_len) {
			uint32_t   len = 0;
			cst_record_peek_len(r->buf + pos, r->buf_len - pos, &len);
			record_loc loc = {.offset = r->offset + pos,
				.seg = seg_index,
				.len = len};
			if (r->kind == FJ_SNAPSHOT) {
				note_snapshot(e, r->seq, loc);
			} else if (append_loc(e, loc) != 0) {
				// Durable but unindexed: only a reopen
				// can serve it now.
				rc = -ENOMEM;
			}
			pos += len;
		}
	}
	finish_commit(j, rc);
}

static int submit_write(file_journal *j);

static void
synced(cst_reactor *r, cst_reactor_completion *c, int res, uint32_t flags)
{
	(void)r;
	(void)flags;
	file_journal *j = (file_journal *)((char *)c -
					   offsetof(file_journal, synced));
	if (res < 0) {
		fail_commit(j, res);
	} else {
		commit_durable(j);
	}
	after_commit(j); // what arrived meanwhile
}

static void
wrote(cst_reactor *r, cst_reactor_completion *c, int res, uint32_t flags)
{
	(void)r;
	(void)flags;
	file_journal *j = (file_journal *)((char *)c -
					   offsetof(file_journal, wrote));
	if (res <= 0) {
		fail_commit(j, res < 0 ? res : -EIO);
		after_commit(j);
		return;
	}
	j->cwritten += (size_t)res;
	if (j->cwritten < j->clen) {
		// A short write: write the rest.
		if (submit_write(j) != 0) {
			fail_commit(j, -EBUSY);
			after_commit(j);
		}
		return;
	}
	cst_segment         *seg = &j->segs.seg[j->segs.count - 1];
	struct io_uring_sqe *sqe = cst_reactor_sqe(j->reactor, &j->synced);
	if (sqe == NULL) {
		fail_commit(j, -EBUSY);
		after_commit(j);
		return;
	}
	io_uring_prep_fsync(sqe, seg->fd, IORING_FSYNC_DATASYNC);
}

// Queues the write of the commit's unwritten bytes; -EBUSY when the
// ring takes no SQE.
static int
submit_write(file_journal *j)
{
	cst_segment         *seg = &j->segs.seg[j->segs.count - 1];
	struct io_uring_sqe *sqe = cst_reactor_sqe(j->reactor, &j->wrote);
	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_write(sqe, seg->fd, j->cbuf + j->cwritten,
		(unsigned)(j->clen - j->cwritten), j->cstart + j->cwritten);
	return 0;
}

static int
reserve_cbuf(file_journal *j, size_t need)
{
	if (need <= j->cbuf_cap) {
		return 0;
	}
	size_t cap = j->cbuf_cap == 0 ? 64 * 1024 : j->cbuf_cap;
	while (cap < need) {
		cap *= 2;
	}
	uint8_t *grown = cst_alloc(cap);
	if (grown == NULL) {
		return -ENOMEM;
	}
	if (j->clen > 0) {
		memcpy(grown, j->cbuf, j->clen);
	}
	cst_free_sized(j->cbuf, j->cbuf_cap);
	j->cbuf = grown;
	j->cbuf_cap = cap;
	return 0;
}

// Fails one request before it joins a commit.
static void
reject(fj_req *r, int rc)
{
	r->done(r->arg, rc);
	free_req(r);
}

// Builds and starts one commit from the pending list; false when
// nothing was started (nothing pending, or every request rejected).
static bool
build_commit(file_journal *j)
{
	cst_segment *seg = &j->segs.seg[j->segs.count - 1];
	int          rc = j->broken;
	if (rc == 0 && seg->size >= j->segment_bytes) {
		rc = cst_segments_add(&j->segs);
		seg = &j->segs.seg[j->segs.count - 1];
	}
	j->clen = 0;
	j->cwritten = 0;
	j->cstart = seg->size;
	fj_req *tail = NULL;
	size_t  records = 0;
	while (j->pending_head != NULL &&
	       (records == 0 || records + j->pending_head->n <= j->max_batch)) {
		fj_req *r = j->pending_head;
		j->pending_head = r->next;
		r->next = NULL;
		if (rc != 0) {
			reject(r, rc);
			continue;
		}
		fj_entity *e = find_entity(j, r->entity, r->entity_len, true);
		if (e == NULL) {
			reject(r, -ENOMEM);
			continue;
		}
		if (r->kind == FJ_PERSIST && r->seq != e->reserved + 1) {
			reject(r, -ESTALE);
			continue;
		}
		if (reserve_cbuf(j, j->clen + r->buf_len) != 0) {
			reject(r, -ENOMEM);
			continue;
		}
		if (r->kind == FJ_PERSIST) {
			e->reserved += r->n;
		}
		memcpy(j->cbuf + j->clen, r->buf, r->buf_len);
		r->offset = j->cstart + j->clen;
		j->clen += r->buf_len;
		records += r->n;
		if (tail == NULL) {
			j->commit = r;
		} else {
			tail->next = r;
		}
		tail = r;
	}
	if (j->pending_head == NULL) {
		j->pending_tail = NULL;
	}
	if (j->commit == NULL) {
		return false;
	}
	j->in_flight = true;
	if (submit_write(j) != 0) {
		fail_commit(j, -EBUSY);
		return false;
	}
	return true;
}

static void
start_commit(file_journal *j)
{
	while (!j->in_flight && j->pending_head != NULL) {
		if (build_commit(j)) {
			return;
		}
	}
}

// ---- Requests (run on the reactor thread) ----

static void
run_write(cst_reactor *reactor, cst_reactor_req *req)
{
	(void)reactor;
	fj_req       *r = (fj_req *)req;
	file_journal *j = r->j;
	if (j->pending_tail == NULL) {
		j->pending_head = r;
	} else {
		j->pending_tail->next = r;
	}
	j->pending_tail = r;
	arm_kick(j);
}

// Reads and checks the record at loc; NULL with *rc set on failure.
static const cst_record *
read_record(file_journal *j, const fj_req *r, record_loc loc, uint8_t kind,
	cst_record *rec, int *rc)
{
	if (loc.len > j->rbuf_cap) {
		size_t   cap = loc.len < 4096 ? 4096 : loc.len;
		uint8_t *grown = cst_alloc(cap);
		if (grown == NULL) {
			*rc = -ENOMEM;
			return NULL;
		}
		cst_free_sized(j->rbuf, j->rbuf_cap);
		j->rbuf = grown;
		j->rbuf_cap = cap;
	}
	int     fd = j->segs.seg[loc.seg].fd;
	size_t  got = 0;
	while (got < loc.len) {
		ssize_t n = pread(fd, j->rbuf + got, loc.len - got,
			(off_t)(loc.offset + got));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			*rc = n < 0 ? -errno : CASTY_ECORRUPT;
			return NULL;
		}
		got += (size_t)n;
	}
	if (cst_record_decode(j->rbuf, loc.len, rec) != (int64_t)loc.len ||
	    rec->kind != kind || rec->entity_len != r->entity_len ||
	    memcmp(rec->entity, r->entity, r->entity_len) != 0) {
		casty_log_error(NULL,
			"journal: %s: segment %u: corrupt record at offset "
			"%llu",
			j->segs.dir, loc.seg, (unsigned long long)loc.offset);
		*rc = CASTY_ECORRUPT;
		return NULL;
	}
	return rec;
}

static void
run_load(cst_reactor *reactor, cst_reactor_req *req)
{
	(void)reactor;
	fj_req       *r = (fj_req *)req;
	file_journal *j = r->j;
	fj_entity    *e = find_entity(j, r->entity, r->entity_len, false);
	int           rc = CASTY_OK;
	uint64_t      seq = r->seq > 1 ? r->seq : 1;

	for (; e != NULL && rc == CASTY_OK && seq <= e->count; seq++) {
		cst_record rec;
		if (read_record(j, r, e->events[seq - 1], CST_RECORD_EVENT,
			    &rec, &rc) == NULL) {
			break;
		}
		if (rec.seq != seq) {
			rc = CASTY_ECORRUPT;
			break;
		}
		r->replay(r->arg, seq, rec.payload, rec.payload_len);
	}
	r->done(r->arg, rc);
	free_req(r);
}

static void
run_load_snapshot(cst_reactor *reactor, cst_reactor_req *req)
{
	(void)reactor;
	fj_req       *r = (fj_req *)req;
	file_journal *j = r->j;
	fj_entity    *e = find_entity(j, r->entity, r->entity_len, false);
	cst_record    rec;
	int           rc = CASTY_OK;

	if (e == NULL || !e->has_snapshot) {
		r->snapshot_done(r->arg, CASTY_OK, false, 0, NULL, 0);
	} else if (read_record(j, r, e->snapshot, CST_RECORD_SNAPSHOT, &rec,
			   &rc) == NULL) {
		r->snapshot_done(r->arg, rc, false, 0, NULL, 0);
	} else {
		r->snapshot_done(r->arg, CASTY_OK, true, rec.seq, rec.payload,
			rec.payload_len);
	}
	free_req(r);
}

// ---- The calls (any thread) ----

static fj_req *
new_req(file_journal *j, enum fj_kind kind, const char *entity,
	size_t buf_len)
{
	size_t  entity_len = strlen(entity);
	size_t  size = sizeof(fj_req) + entity_len + 1 + buf_len;
	fj_req *r = cst_alloc(size);
	if (r == NULL) {
		return NULL;
	}
	char *name = (char *)(r + 1);
	memcpy(name, entity, entity_len + 1);
	*r = (fj_req){
		.j = j,
		.kind = kind,
		.alloc_size = size,
		.entity_len = entity_len,
		.entity = name,
		.buf = (const uint8_t *)name + entity_len + 1,
		.buf_len = buf_len,
	};
	return r;
}

static bool
is_closed(file_journal *j)
{
	// Acquire: pairs with the release store in fj_close.
	return atomic_load_explicit(&j->closed, memory_order_acquire);
}

static int
fj_persist(casty_journal *base, const char *entity_id, uint64_t first_seq,
	const casty_journal_record *events, size_t n,
	casty_journal_done_fn done, void *arg)
{
	file_journal *j = (file_journal *)base;
	size_t        entity_len = strlen(entity_id), bytes = 0;

	if (is_closed(j)) {
		return CASTY_ESTOPPED;
	}
	for (size_t i = 0; i < n; i++) {
		bytes += cst_record_size(entity_len, events[i].len);
	}
	fj_req *r = new_req(j, FJ_PERSIST, entity_id, bytes);
	if (r == NULL) {
		return -ENOMEM;
	}
	uint8_t *out = (uint8_t *)r->buf;
	for (size_t i = 0; i < n; i++) {
		uint8_t flags = i + 1 == n ? CST_RECORD_BATCH_END : 0;
		cst_record_encode(out, CST_RECORD_EVENT, flags, entity_id,
			entity_len, first_seq + i, events[i].data,
			events[i].len);
		out += cst_record_size(entity_len, events[i].len);
	}
	r->seq = first_seq;
	r->n = n;
	r->done = done;
	r->arg = arg;
	r->req.run = run_write;
	cst_reactor_submit(j->reactor, &r->req);
	return CASTY_OK;
}

static int
fj_save_snapshot(casty_journal *base, const char *entity_id, uint64_t seq,
	casty_journal_record state, casty_journal_done_fn done, void *arg)
{
	file_journal *j = (file_journal *)base;
	size_t        entity_len = strlen(entity_id);

	if (is_closed(j)) {
		return CASTY_ESTOPPED;
	}
	fj_req *r = new_req(j, FJ_SNAPSHOT, entity_id,
		cst_record_size(entity_len, state.len));
	if (r == NULL) {
		return -ENOMEM;
	}
	cst_record_encode((uint8_t *)r->buf, CST_RECORD_SNAPSHOT,
		CST_RECORD_BATCH_END, entity_id, entity_len, seq, state.data,
		state.len);
	r->seq = seq;
	r->n = 1;
	r->done = done;
	r->arg = arg;
	r->req.run = run_write;
	cst_reactor_submit(j->reactor, &r->req);
	return CASTY_OK;
}

static int
fj_load(casty_journal *base, const char *entity_id, uint64_t from_seq,
	casty_journal_replay_fn replay, casty_journal_done_fn done, void *arg)
{
	file_journal *j = (file_journal *)base;
	if (is_closed(j)) {
		return CASTY_ESTOPPED;
	}
	fj_req *r = new_req(j, FJ_LOAD, entity_id, 0);
	if (r == NULL) {
		return -ENOMEM;
	}
	r->seq = from_seq;
	r->replay = replay;
	r->done = done;
	r->arg = arg;
	r->req.run = run_load;
	cst_reactor_submit(j->reactor, &r->req);
	return CASTY_OK;
}

static int
fj_load_snapshot(casty_journal *base, const char *entity_id,
	casty_journal_snapshot_fn done, void *arg)
{
	file_journal *j = (file_journal *)base;
	if (is_closed(j)) {
		return CASTY_ESTOPPED;
	}
	fj_req *r = new_req(j, FJ_LOAD_SNAPSHOT, entity_id, 0);
	if (r == NULL) {
		return -ENOMEM;
	}
	r->snapshot_done = done;
	r->arg = arg;
	r->req.run = run_load_snapshot;
	cst_reactor_submit(j->reactor, &r->req);
	return CASTY_OK;
}

static void
run_close(cst_reactor *reactor, cst_reactor_req *req)
{
	(void)reactor;
	close_waiter *w = (close_waiter *)req;
	w->j->closer = w;
	maybe_finish_close(w->j);
}

static void
free_journal(file_journal *j)
{
	cst_entity_map *map = &j->entities;
	for (size_t i = 0; i < map->cap; i++) {
		fj_entity *e = map->slot[i].value;
		if (map->slot[i].key != NULL) {
			cst_free_sized(e->events, e->cap * sizeof(*e->events));
			cst_free_sized(e, sizeof(*e));
		}
	}
	cst_entity_map_fini(map);
	cst_segments_close(&j->segs);
	cst_free_sized(j->cbuf, j->cbuf_cap);
	cst_free_sized(j->rbuf, j->rbuf_cap);
	cst_free_sized(j, sizeof(*j));
}

static void
fj_close(casty_journal *base)
{
	file_journal *j = (file_journal *)base;
	close_waiter w = {.req.run = run_close, .j = j};

	// Release: pairs with the acquire in is_closed.
	atomic_store_explicit(&j->closed, true, memory_order_release);
	cst_oneshot_init(&w.done);
	cst_reactor_submit(j->reactor, &w.req);
	cst_oneshot_wait(&w.done);
	free_journal(j);
}

static const casty_journal_ops file_ops = {
	.persist = fj_persist,
	.load = fj_load,
	.save_snapshot = fj_save_snapshot,
	.load_snapshot = fj_load_snapshot,
	.close = fj_close,
};

int
casty_file_journal_open(casty_system *sys, const char *dir,
	const casty_file_journal_options *opts, casty_journal **out)
{
	if (sys == NULL || dir == NULL || out == NULL || sys->reactor == NULL) {
		return -EINVAL;
	}
	file_journal *j = cst_calloc(sizeof(*j));
	if (j == NULL) {
		return -ENOMEM;
	}
	j->base.ops = &file_ops;
	j->reactor = sys->reactor;
	j->segment_bytes = opts != NULL && opts->segment_bytes != 0
				   ? opts->segment_bytes
				   : DEFAULT_SEGMENT_BYTES;
	j->max_batch = opts != NULL && opts->max_batch != 0
			       ? opts->max_batch
			       : DEFAULT_MAX_BATCH;
	atomic_init(&j->closed, false);
	j->kick.done = kicked;
	j->wrote.done = wrote;
	j->synced.done = synced;
	int rc = cst_segments_open(dir, false, &j->segs, index_record, j);
	if (rc != 0) {
		j->segs = (cst_segment_list){.dir_fd = -1};
		free_journal(j);
		return rc;
	}
	*out = &j->base;
	return CASTY_OK;
}
