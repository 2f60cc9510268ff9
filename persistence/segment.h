// persistence/segment.h: the journal's segment files: naming, listing,
// creating, and the scan that recovers them at open.
#ifndef CASTY_PERSISTENCE_SEGMENT_H
#define CASTY_PERSISTENCE_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "persistence/record.h"

/** cst_segment is one open segment file. */
typedef struct cst_segment {
	uint64_t id;   // the number in its name, from 1
	int      fd;   // read-write (read-only for the inspector)
	uint64_t size; // bytes of accepted records
} cst_segment;

/** cst_segment_list is a journal directory's segments, in id order. */
typedef struct cst_segment_list {
	char        *dir;
	int          dir_fd;
	bool         read_only;
	cst_segment *seg;
	size_t       count, cap;
} cst_segment_list;

/**
 * cst_segment_visit_fn receives each accepted record of a scan, in file
 * order; the records of a batch only once its last one has been read.
 * rec points into the scan's buffer. Returning non-zero rejects the
 * record as corrupt (a sequence number going backwards, say).
 */
typedef int (*cst_segment_visit_fn)(void *arg, size_t seg_index,
	uint64_t offset, const cst_record *rec);

/** CST_SEGMENT_NAME_MAX bounds a segment's file name. */
#define CST_SEGMENT_NAME_MAX 32

/** cst_segment_name writes "00000000000000000001.seg" for id 1. */
void cst_segment_name(char *buf, uint64_t id);

/** cst_segment_scan_result is what the scan of one segment found. */
typedef struct cst_segment_scan_result {
	enum {
		CST_SCAN_CLEAN,   // every byte belongs to an accepted batch
		CST_SCAN_TORN,    // a bad or unfinished tail, nothing after it
		CST_SCAN_CORRUPT, // a bad record with valid records after it
	} status;
	uint64_t good_end;   // end of the last accepted batch
	uint64_t bad_offset; // where the first bad record starts
} cst_segment_scan_result;

/**
 * cst_segment_scan walks buf (a whole segment of len bytes) and calls
 * visit for each record of each complete batch, until the first bad
 * record or unfinished batch. Thread: any.
 */
void cst_segment_scan(const uint8_t *buf, size_t len, size_t seg_index,
	cst_segment_visit_fn visit, void *arg, cst_segment_scan_result *out);

/**
 * cst_segments_open lists the segments of dir (creating dir and the
 * first segment if needed, unless read_only) and scans them in order,
 * calling visit for every accepted record. A torn tail of the last
 * segment is truncated (ftruncate + fsync) and reported at WARN; a bad
 * record anywhere else fails with CASTY_ECORRUPT, reported at ERROR
 * with file and offset. read_only (the inspector) neither creates nor
 * truncates: the torn tail is only reported. Returns 0, CASTY_ECORRUPT
 * or a negated errno; on failure the list is left empty.
 */
int cst_segments_open(const char *dir, bool read_only, cst_segment_list *list,
	cst_segment_visit_fn visit, void *arg);

/**
 * cst_segments_add creates the next segment (id one past the last),
 * fsyncs the directory, and appends it. Returns 0 or a negated errno.
 */
int cst_segments_add(cst_segment_list *list);

/** cst_segments_close closes every file and frees the list. */
void cst_segments_close(cst_segment_list *list);

#endif // CASTY_PERSISTENCE_SEGMENT_H
