// tests/persistence/test_segment.c: recovery of segment files at open
// (persistence/segment.c through casty_file_journal_open): a torn tail
// cut at every offset of the last batch, garbage appended, a flipped
// byte in the tail (truncated as torn) or in the middle or an earlier
// segment (refused as corrupt), and sequence numbers going backwards.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <casty/casty.h>
#include <casty/log.h>

#include "persistence/record.h"
#include "persistence/segment.h"
#include "tests/support/journal_contract.h"
#include "tests/support/system_fixture.h"

static casty_system  *sys;
static casty_journal *journal;
static char          *dir;

// The log lines at WARN and above, kept for the assertions.
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char            last_line[1024];
static casty_log_level last_level;
static int             lines;

static void
keep_line(void *arg, casty_log_level level, const char *path,
	const char *message)
{
	(void)arg;
	(void)path;
	pthread_mutex_lock(&log_lock);
	snprintf(last_line, sizeof last_line, "%s", message);
	last_level = level;
	lines++;
	pthread_mutex_unlock(&log_lock);
}

static void
forget_lines(void)
{
	pthread_mutex_lock(&log_lock);
	last_line[0] = '\0';
	lines = 0;
	pthread_mutex_unlock(&log_lock);
}

static void
setup(void)
{
	sys_setup(); // skips where io_uring is not available
	dir = make_tmpdir();
	casty_log_set_sink(keep_line, NULL);
}

static void
teardown(void)
{
	casty_journal_close(journal);
	journal = NULL;
	casty_system_destroy(sys);
	casty_log_set_sink(NULL, NULL);
	remove_tmpdir(dir);
	dir = NULL;
}

TestSuite(segment, .init = setup, .fini = teardown, .timeout = 120);

static int
open_journal(const casty_file_journal_options *opts)
{
	forget_lines();
	return casty_file_journal_open(sys, dir, opts, &journal);
}

static void
close_journal(void)
{
	casty_journal_close(journal);
	journal = NULL;
}

static char *
segment_path(uint64_t id)
{
	static char path[4096];
	char        name[CST_SEGMENT_NAME_MAX];
	cst_segment_name(name, id);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	struct stat st;
	int         fd = open(path, O_RDONLY);
	cr_assert(fd >= 0);
	cr_assert(fstat(fd, &st) == 0);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	cr_assert(eq(sz, (size_t)read(fd, buf, (size_t)st.st_size),
		(size_t)st.st_size));
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void
write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	cr_assert(eq(sz, (size_t)write(fd, buf, len), len));
	close(fd);
}

static size_t
file_size(const char *path)
{
	struct stat st;
	cr_assert(stat(path, &st) == 0);
	return (size_t)st.st_size;
}

// Writes a:1..5 (batches 2 and 3), b:1..2, then a:6..8 as the last
// batch; returns the offset where that last batch starts.
static size_t
write_history(void)
{
	cr_assert(eq(int, open_journal(NULL), CASTY_OK));
	cr_assert(eq(int, persist_n(journal, "a", 1, 2), 0));
	cr_assert(eq(int, persist_n(journal, "b", 1, 2), 0));
	cr_assert(eq(int, persist_n(journal, "a", 3, 3), 0));
	size_t batch_start = file_size(segment_path(1));
	cr_assert(eq(int, persist_n(journal, "a", 6, 3), 0));
	close_journal();
	return batch_start;
}

// The last line reports a torn tail of segment 1 at an offset in
// [lo, hi] (the first record that is incomplete, or its batch's start).
static void
assert_torn_reported(size_t lo, size_t hi)
{
	const char *tag = "torn tail at offset ";
	pthread_mutex_lock(&log_lock);
	cr_assert(eq(int, (int)last_level, CASTY_LOG_WARN), "%s", last_line);
	cr_assert(strstr(last_line, "00000000000000000001.seg") != NULL,
		"%s", last_line);
	const char *at = strstr(last_line, tag);
	cr_assert(at != NULL, "%s", last_line);
	size_t offset = strtoull(at + strlen(tag), NULL, 10);
	cr_assert(offset >= lo && offset <= hi, "%s", last_line);
	pthread_mutex_unlock(&log_lock);
}

static void
assert_corrupt_reported(uint64_t segment, size_t offset)
{
	char name[CST_SEGMENT_NAME_MAX], want[64];
	cst_segment_name(name, segment);
	if (offset == SIZE_MAX) { // any offset
		snprintf(want, sizeof want, "corrupt record at offset ");
	} else {
		snprintf(want, sizeof want, "corrupt record at offset %zu",
			offset);
	}
	pthread_mutex_lock(&log_lock);
	cr_assert(eq(int, (int)last_level, CASTY_LOG_ERROR), "%s", last_line);
	cr_assert(strstr(last_line, name) != NULL, "%s", last_line);
	cr_assert(strstr(last_line, want) != NULL, "%s", last_line);
	pthread_mutex_unlock(&log_lock);
}

Test(segment, a_cut_anywhere_in_the_last_batch_drops_that_batch_only)
{
	size_t   batch_start = write_history();
	size_t   len;
	uint8_t *whole = read_file(segment_path(1), &len);
	for (size_t cut = batch_start + 1; cut < len; cut++) {
		write_file(segment_path(1), whole, cut);
		cr_assert(eq(int, open_journal(NULL), CASTY_OK), "cut %zu", cut);
		assert_torn_reported(batch_start, cut);
		cr_assert(eq(sz, file_size(segment_path(1)), batch_start));
		assert_events(journal, "a", 1, 5);
		assert_events(journal, "b", 1, 2);
		close_journal();
	}
	// Untouched, everything is there and nothing is reported.
	write_file(segment_path(1), whole, len);
	cr_assert(eq(int, open_journal(NULL), CASTY_OK));
	cr_assert(eq(int, lines, 0));
	assert_events(journal, "a", 1, 8);
	free(whole);
}

Test(segment, garbage_after_the_last_batch_is_cut_off)
{
	write_history();
	size_t   len;
	uint8_t *whole = read_file(segment_path(1), &len);
	uint8_t *longer = malloc(len + 300);
	memcpy(longer, whole, len);
	// Random bytes, then a plausible header that ends too soon.
	uint32_t x = 12345;
	for (size_t i = 0; i < 300; i++) {
		x = x * 1103515245 + 12345;
		longer[len + i] = (uint8_t)(x >> 16);
	}
	write_file(segment_path(1), longer, len + 300);
	cr_assert(eq(int, open_journal(NULL), CASTY_OK));
	assert_torn_reported(len, len);
	cr_assert(eq(sz, file_size(segment_path(1)), len));
	assert_events(journal, "a", 1, 8);
	close_journal();

	memcpy(longer + len, "CSJ1\x01\x01\x01", 7);
	write_file(segment_path(1), longer, len + 7);
	cr_assert(eq(int, open_journal(NULL), CASTY_OK));
	assert_torn_reported(len, len);
	assert_events(journal, "a", 1, 8);
	cr_assert(eq(int, persist_n(journal, "a", 9, 1), 0));
	close_journal();
	cr_assert(eq(int, open_journal(NULL), CASTY_OK));
	cr_assert(eq(int, lines, 0));
	assert_events(journal, "a", 1, 9);
	free(longer);
	free(whole);
}

Test(segment, a_flipped_byte_in_the_tail_record_is_a_torn_tail)
{
	size_t   batch_start = write_history();
	size_t   len;
	uint8_t *whole = read_file(segment_path(1), &len);
	whole[len - 10] ^= 0x40; // inside the last record's payload
	write_file(segment_path(1), whole, len);
	cr_assert(eq(int, open_journal(NULL), CASTY_OK));
	assert_torn_reported(batch_start, len - 10);
	cr_assert(eq(sz, file_size(segment_path(1)), batch_start));
	assert_events(journal, "a", 1, 5);
	free(whole);
}

Test(segment, a_flipped_byte_in_a_middle_record_refuses_to_open)
{
	write_history();
	size_t   len;
	uint8_t *whole = read_file(segment_path(1), &len);
	// The second record (a:2) starts right after the first.
	size_t first = cst_record_size(1, 0);
	cst_record rec;
	cr_assert(cst_record_decode(whole, len, &rec) > 0);
	first = rec.total_len;
	for (size_t at = first; at < first + 30; at += 7) {
		uint8_t *copy = malloc(len);
		memcpy(copy, whole, len);
		copy[at] ^= 0x01;
		write_file(segment_path(1), copy, len);
		cr_assert(eq(int, open_journal(NULL), CASTY_ECORRUPT),
			"flip at %zu", at);
		cr_assert(journal == NULL);
		assert_corrupt_reported(1, first);
		// Refused, not repaired: the file is as it was.
		cr_assert(eq(sz, file_size(segment_path(1)), len));
		free(copy);
	}
	free(whole);
}

Test(segment, damage_in_an_earlier_segment_refuses_to_open)
{
	casty_file_journal_options opts = {.segment_bytes = 300};
	cr_assert(eq(int, open_journal(&opts), CASTY_OK));
	for (uint64_t seq = 1; seq <= 30; seq += 2) {
		cr_assert(eq(int, persist_n(journal, "e", seq, 2), 0));
	}
	close_journal();
	cr_assert(access(segment_path(3), F_OK) == 0);
	// Cut the first segment's last byte: a torn tail, but not the last
	// segment's.
	size_t   len;
	uint8_t *whole = read_file(segment_path(1), &len);
	write_file(segment_path(1), whole, len - 1);
	cr_assert(eq(int, open_journal(&opts), CASTY_ECORRUPT));
	assert_corrupt_reported(1, SIZE_MAX); // at its last record
	write_file(segment_path(1), whole, len);
	cr_assert(eq(int, open_journal(&opts), CASTY_OK));
	assert_events(journal, "e", 1, 30);
	free(whole);
}

Test(segment, sequence_numbers_going_backwards_are_corrupt)
{
	uint8_t buf[256];
	size_t  one = cst_record_size(1, 1), len = 0;
	cst_record_encode(buf, CST_RECORD_EVENT, CST_RECORD_BATCH_END, "e", 1,
		1, "x", 1);
	cst_record_encode(buf + one, CST_RECORD_EVENT, CST_RECORD_BATCH_END,
		"e", 1, 2, "y", 1);
	cst_record_encode(buf + 2 * one, CST_RECORD_EVENT,
		CST_RECORD_BATCH_END, "e", 1, 2, "z", 1);
	len = 3 * one;
	write_file(segment_path(1), buf, len);
	cr_assert(eq(int, open_journal(NULL), CASTY_ECORRUPT));
	assert_corrupt_reported(1, 2 * one);
	// A batch whose records do not follow each other is corrupt too.
	cst_record_encode(buf + one, CST_RECORD_EVENT, 0, "e", 1, 2, "y", 1);
	cst_record_encode(buf + 2 * one, CST_RECORD_EVENT,
		CST_RECORD_BATCH_END, "e", 1, 4, "z", 1);
	write_file(segment_path(1), buf, len);
	cr_assert(eq(int, open_journal(NULL), CASTY_ECORRUPT));
	// And the same records in order are accepted.
	cst_record_encode(buf + 2 * one, CST_RECORD_EVENT,
		CST_RECORD_BATCH_END, "e", 1, 3, "z", 1);
	write_file(segment_path(1), buf, len);
	cr_assert(eq(int, open_journal(NULL), CASTY_OK));
	sync_op *op = load_all(journal, "e", 1);
	cr_assert(eq(sz, op->count, 3));
	cr_assert(memcmp(op->data[2], "z", 1) == 0);
	sync_op_free(op);
}
