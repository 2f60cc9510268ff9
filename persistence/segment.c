// persistence/segment.c: segment files and their recovery scan.
//
// A journal directory holds segments named by a 20-digit number
// ("00000000000000000001.seg"), written in number order, each a sequence
// of records (record.h). A persist's batch is the run of its records up
// to the one flagged CST_RECORD_BATCH_END; a snapshot is a batch of one.
// The scan accepts a batch only once its last record has been read, so a
// batch cut short by a crash is dropped whole (all-or-nothing).
//
// Recovery tells a torn tail from corruption by what follows the first
// bad byte: if no valid record starts anywhere after it, the bad part is
// the remains of the last write, which was never acknowledged (the writer
// acknowledges only after fdatasync), so the last segment is truncated
// at the end of its last complete batch. If a valid record follows, the
// damage is in the middle of acknowledged data and the journal refuses
// to open rather than serve a hole.
#include "persistence/segment.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <casty/base.h>
#include <casty/log.h>

#include "runtime/alloc.h"

void
cst_segment_name(char *buf, uint64_t id)
{
	snprintf(buf, CST_SEGMENT_NAME_MAX, "%020" PRIu64 ".seg", id);
}

// Whether a valid record starts anywhere in buf[from, len).
static bool
valid_record_after(const uint8_t *buf, size_t len, size_t from)
{
	static const char magic[4] = {'C', 'S', 'J', '1'};
	cst_record        rec;

	while (from < len) {
		const uint8_t *hit = memmem(buf + from, len - from, magic, 4);
		if (hit == NULL) {
			return false;
		}
		size_t at = (size_t)(hit - buf);
		if (cst_record_decode(hit, len - at, &rec) > 0) {
			return true;
		}
		from = at + 1;
	}
	return false;
}

// Visits the records of the batch at buf[start, end), all valid.
static int
deliver(const uint8_t *buf, size_t start, size_t end, size_t seg_index,
	cst_segment_visit_fn visit, void *arg, size_t *bad)
{
	cst_record rec;
	for (size_t off = start; off < end;) {
		int64_t n = cst_record_decode(buf + off, end - off, &rec);
		if (n <= 0 || visit(arg, seg_index, off, &rec) != 0) {
			*bad = off;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

void
cst_segment_scan(const uint8_t *buf, size_t len, size_t seg_index,
	cst_segment_visit_fn visit, void *arg, cst_segment_scan_result *out)
{
	size_t      off = 0, batch_start = 0, search_from = 0;
	bool        pending = false;
	cst_record  first = {0}, rec;
	uint64_t    last_seq = 0;

	while (off < len) {
		int64_t n = cst_record_decode(buf + off, len - off, &rec);
		if (n <= 0) {
			search_from = off + 1;
			goto bad;
		}
		// A batch is one entity's consecutive events, contiguous.
		if (pending && (rec.kind != CST_RECORD_EVENT ||
				       rec.entity_len != first.entity_len ||
				       memcmp(rec.entity, first.entity,
					       rec.entity_len) != 0 ||
				       rec.seq != last_seq + 1)) {
			search_from = off; // this record itself is valid
			goto bad;
		}
		if (!pending) {
			first = rec;
			pending = true;
		}
		last_seq = rec.seq;
		off += (size_t)n;
		if (rec.flags & CST_RECORD_BATCH_END) {
			size_t rejected;
			if (deliver(buf, batch_start, off, seg_index, visit,
				    arg, &rejected) != 0) {
				*out = (cst_segment_scan_result){
					.status = CST_SCAN_CORRUPT,
					.good_end = batch_start,
					.bad_offset = rejected,
				};
				return;
			}
			batch_start = off;
			pending = false;
		}
	}
	if (!pending) {
		*out = (cst_segment_scan_result){
			.status = CST_SCAN_CLEAN, .good_end = len, .bad_offset = 0};
		return;
	}
	// The file ends inside a batch.
	*out = (cst_segment_scan_result){.status = CST_SCAN_TORN,
		.good_end = batch_start,
		.bad_offset = batch_start};
	return;
bad:
	*out = (cst_segment_scan_result){
		.status = valid_record_after(buf, len, search_from)
				  ? CST_SCAN_CORRUPT
				  : CST_SCAN_TORN,
		.good_end = batch_start,
		.bad_offset = off,
	};
}

static int
compare_ids(const void *a, const void *b)
{
	uint64_t x = ((const cst_segment *)a)->id;
	uint64_t y = ((const cst_segment *)b)->id;
	return x < y ? -1 : x > y;
}

static int
push(cst_segment_list *list, cst_segment seg)
{
	if (list->count == list->cap) {
		size_t       cap = list->cap == 0 ? 8 : list->cap * 2;
		cst_segment *grown = cst_alloc(cap * sizeof(*grown));
		if (grown == NULL) {
			return -ENOMEM;
		}
		if (list->count > 0) {
			memcpy(grown, list->seg, list->count * sizeof(*grown));
		}
		cst_free_sized(list->seg, list->cap * sizeof(*grown));
		list->seg = grown;
		list->cap = cap;
	}
	list->seg[list->count++] = seg;
	return 0;
}

// Parses "<20 digits>.seg"; false for any other name.
static bool
parse_name(const char *name, uint64_t *id)
{
	if (strlen(name) != 24 || strcmp(name + 20, ".seg") != 0) {
		return false;
	}
	uint64_t v = 0;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9') {
			return false;
		}
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*id = v;
	return v > 0;
}

static int
list_segments(cst_segment_list *list)
{
	int fd = dup(list->dir_fd);
	if (fd < 0) {
		return -errno;
	}
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	struct dirent *ent;
	int            rc = 0;
	while (rc == 0 && (ent = readdir(d)) != NULL) {
		uint64_t id;
		if (parse_name(ent->d_name, &id)) {
			rc = push(list, (cst_segment){.id = id, .fd = -1});
		}
	}
	closedir(d);
	if (list->count > 1) {
		qsort(list->seg, list->count, sizeof(*list->seg), compare_ids);
	}
	return rc;
}

static int
open_segment(cst_segment_list *list, cst_segment *seg, int extra_flags)
{
	char name[CST_SEGMENT_NAME_MAX];
	cst_segment_name(name, seg->id);
	int flags = (list->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	seg->fd = openat(list->dir_fd, name, flags | extra_flags, 0644);
	return seg->fd < 0 ? -errno : 0;
}

// Scans segment i; truncates its torn tail when it is the last.
static int
recover_segment(cst_segment_list *list, size_t i, cst_segment_visit_fn visit,
	void *arg)
{
	cst_segment *seg = &list->seg[i];
	char         name[CST_SEGMENT_NAME_MAX];
	struct stat  st;
	int          rc = open_segment(list, seg, 0);

	cst_segment_name(name, seg->id);
	if (rc != 0) {
		return rc;
	}
	if (fstat(seg->fd, &st) != 0) {
		return -errno;
	}
	size_t len = (size_t)st.st_size;
	if (len == 0) {
		seg->size = 0;
		return 0;
	}
	uint8_t *buf = mmap(NULL, len, PROT_READ, MAP_PRIVATE, seg->fd, 0);
	if (buf == MAP_FAILED) {
		return -errno;
	}
	cst_segment_scan_result res;
	cst_segment_scan(buf, len, i, visit, arg, &res);
	munmap(buf, len);

	bool last = i + 1 == list->count;
	if (res.status == CST_SCAN_CLEAN) {
		seg->size = len;
		return 0;
	}
	if (res.status == CST_SCAN_CORRUPT || !last) {
		casty_log_error(NULL,
			"journal: %s/%s: corrupt record at offset %" PRIu64,
			list->dir, name, res.bad_offset);
		return CASTY_ECORRUPT;
	}
	seg->size = res.good_end;
	if (list->read_only) {
		casty_log_warn(NULL,
			"journal: %s/%s: torn tail at offset %" PRIu64
			" (%zu bytes; opening the journal truncates it)",
			list->dir, name, res.bad_offset,
			len - (size_t)res.good_end);
		return 0;
	}
	if (ftruncate(seg->fd, (off_t)res.good_end) != 0 ||
	    fsync(seg->fd) != 0) {
		return -errno;
	}
	casty_log_warn(NULL,
		"journal: %s/%s: torn tail at offset %" PRIu64
		" truncated to %" PRIu64 " (%zu bytes dropped)",
		list->dir, name, res.bad_offset, res.good_end,
		len - (size_t)res.good_end);
	return 0;
}

int
cst_segments_add(cst_segment_list *list)
{
	uint64_t    id = list->count == 0 ? 1 : list->seg[list->count - 1].id + 1;
	cst_segment seg = {.id = id, .fd = -1, .size = 0};
	int         rc = open_segment(list, &seg, O_CREAT | O_EXCL);
	if (rc != 0) {
		return rc;
	}
	// The new name must be durable before records in it are
	// acknowledged.
	if (fsync(list->dir_fd) != 0 || (rc = push(list, seg)) != 0) {
		rc = rc != 0 ? rc : -errno;
		char name[CST_SEGMENT_NAME_MAX];
		cst_segment_name(name, id);
		close(seg.fd);
		unlinkat(list->dir_fd, name, 0);
		return rc;
	}
	return 0;
}

int
cst_segments_open(const char *dir, bool read_only, cst_segment_list *list,
	cst_segment_visit_fn visit, void *arg)
{
	*list = (cst_segment_list){.dir_fd = -1, .read_only = read_only};
	if (!read_only && mkdir(dir, 0755) != 0 && errno != EEXIST) {
		return -errno;
	}
	list->dir = cst_strdup(dir);
	if (list->dir == NULL) {
		return -ENOMEM;
	}
	list->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = list->dir_fd < 0 ? -errno : list_segments(list);
	for (size_t i = 0; rc == 0 && i < list->count; i++) {
		rc = recover_segment(list, i, visit, arg);
	}
	if (rc == 0 && list->count == 0 && !read_only) {
		rc = cst_segments_add(list);
	}
	if (rc != 0) {
		cst_segments_close(list);
	}
	return rc;
}

void
cst_segments_close(cst_segment_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		if (list->seg[i].fd >= 0) {
			close(list->seg[i].fd);
		}
	}
	cst_free_sized(list->seg, list->cap * sizeof(*list->seg));
	if (list->dir_fd >= 0) {
		close(list->dir_fd);
	}
	if (list->dir != NULL) {
		cst_free_sized(list->dir, strlen(list->dir) + 1);
	}
	*list = (cst_segment_list){.dir_fd = -1};
}
