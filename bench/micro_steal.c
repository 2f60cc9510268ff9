// bench/micro_steal.c: an imbalance that only work stealing can fix. One
// driver actor, on one worker, sends a job to each of 1,000 idle job
// actors at once; every job actor it wakes is queued on the driver's own
// worker, so the other workers get work only by stealing it. A job is a
// fixed CPU loop (about 1 us, calibrated before the run; --work-ns N to
// change it) and an Ack to the driver; the next round starts when all
// 1,000 have acked, 200 rounds, 200,000 jobs. Prints `name value unit`:
//
//   steal_work_ns             the calibrated work of one job, alone
//   steal_ns_per_job          wall time per job over the whole run
//   steal_jobs_per_sec        the same as a rate
//   steal_efficiency          jobs * work / (wall * workers): 1.0 would
//                             be perfect spreading with no overhead
//   steal_jobs_off_driver_pct jobs run on a thread other than the
//                             driver's, i.e. moved by stealing
//
// Public API only (threads are told apart with gettid in the handlers,
// as a user could), default configuration.
#include <casty/casty.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench/bench.h"

#define JOB_ACTORS ((int64_t)1000)
#define ROUNDS ((int64_t)200)
#define JOBS (JOB_ACTORS * ROUNDS)

typedef struct {
	casty_ref reply_to;
} Start;
typedef struct {
	int64_t iters;
	int64_t driver_tid;
} Job;
typedef struct {
	int64_t result;     // sent so that the work is not optimised away
	int64_t off_driver; // 1 when the job ran on another thread
} Ack;
typedef struct {
	int64_t jobs;
	int64_t off_driver;
} Result;
CASTY_MESSAGE(Start, reply_to);
CASTY_MESSAGE(Job, iters, driver_tid);
CASTY_MESSAGE(Ack, result, off_driver);
CASTY_MESSAGE(Result, jobs, off_driver);
CASTY_PROTOCOL(JobMsg, Job);
CASTY_PROTOCOL(DriverMsg, Start, Ack);

static int64_t iters_per_job;

// The work: a dependent chain the compiler cannot fold or vectorise.
static int64_t
work(int64_t iters, int64_t seed)
{
	uint64_t x = (uint64_t)seed | 1;
	for (int64_t i = 0; i < iters; i++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		__asm__ volatile("" : "+r"(x));
	}
	return (int64_t)(x >> 33);
}

static int64_t
thread_id(void)
{
	// Cached: a syscall per job would be a large part of a 1 us job.
	static __thread int64_t tid;
	if (tid == 0) {
		tid = (int64_t)syscall(SYS_gettid);
	}
	return tid;
}

CASTY_HANDLER(job_receive, void)
{
	const Job *j = CASTY_AS(Job, msg);
	casty_tell(DriverMsg_ref_from(casty_ctx_parent(ctx)), Ack,
	    work(j->iters, j->driver_tid), thread_id() != j->driver_tid);
	return casty_same();
}

typedef struct {
	casty_ref   reply_to;
	int64_t     round;
	int64_t     acks; // of this round
	int64_t     off_driver;
	JobMsg_ref *jobs; // the job actors, malloc'ed at start
} Driver;

static casty_behavior driver(Driver state);

// Sends one job to every job actor: each becomes ready on this worker.
static void
send_round(const JobMsg_ref *jobs)
{
	for (int64_t i = 0; i < JOB_ACTORS; i++) {
		casty_tell(jobs[i], Job, iters_per_job, thread_id());
	}
}

CASTY_HANDLER(driver_receive, Driver)
{
	switch (DriverMsg_tag_of(msg)) {
	case DriverMsg_Start: {
		JobMsg_ref *jobs = malloc(JOB_ACTORS * sizeof *jobs);
		bench_check("micro_steal", "malloc", jobs != NULL, 1);
		for (int64_t i = 0; i < JOB_ACTORS; i++) {
			casty_ctx_spawn(ctx, JobMsg,
			    casty_receive(job_receive, NULL, 0), NULL,
			    &jobs[i]);
		}
		send_round(jobs);
		return driver(
		    (Driver){CASTY_AS(Start, msg)->reply_to, 1, 0, 0, jobs});
	}
	case DriverMsg_Ack: {
		Driver next = *state;
		next.acks++;
		next.off_driver += CASTY_AS(Ack, msg)->off_driver;
		if (next.acks < JOB_ACTORS) {
			return driver(next);
		}
		if (next.round == ROUNDS) {
			free(next.jobs);
			casty_send(next.reply_to, Result,
			    next.round * JOB_ACTORS, next.off_driver);
			return casty_stopped();
		}
		send_round(next.jobs);
		next.round++;
		next.acks = 0;
		return driver(next);
	}
	}
	return casty_unhandled();
}

static casty_behavior
driver(Driver state)
{
	return casty_receive(driver_receive, &state, sizeof state);
}

// Finds the iterations that take about work_ns, and what they take.
static double
calibrate(double work_ns)
{
	int64_t iters = 1024, sink = 0;
	double  per_iter;
	for (;;) {
		double t0 = bench_now();
		sink += work(iters, iters);
		double dt = bench_now() - t0;
		if (dt > 0.02) {
			per_iter = dt * 1e9 / (double)iters;
			break;
		}
		iters *= 2;
	}
	iters_per_job = (int64_t)(work_ns / per_iter);
	if (iters_per_job < 1) {
		iters_per_job = 1;
	}
	// Measured again at the final size, over a tenth of the run's jobs.
	double t0 = bench_now();
	for (int64_t i = 0; i < JOBS / 10; i++) {
		sink += work(iters_per_job, i);
	}
	double per_job = (bench_now() - t0) * 1e9 / (JOBS / 10);
	__asm__ volatile("" : : "r"(sink));
	return per_job;
}

int
main(int argc, char **argv)
{
	double        work_ns = 1000;
	casty_system *sys;
	DriverMsg_ref drv;
	casty_msg    *reply;

	if (argc == 3 && strcmp(argv[1], "--work-ns") == 0) {
		work_ns = atof(argv[2]);
	} else if (argc != 1) {
		fprintf(stderr, "usage: micro_steal [--work-ns N]\n");
		return 2;
	}
	double job_ns = calibrate(work_ns);
	// The default configuration runs one worker per online CPU.
	long workers = sysconf(_SC_NPROCESSORS_ONLN);

	if (casty_system_create(NULL, &sys) != CASTY_OK) {
		return 1;
	}
	casty_spawn(sys, DriverMsg,
	    driver((Driver){CASTY_REF_NONE, 0, 0, 0, NULL}), NULL, &drv);
	double t0 = bench_now();
	int    rc = casty_ask(sys, drv, Start, reply_to, 600000, &reply,
	       .reply_to = CASTY_REF_NONE);
	double t1 = bench_now();
	bench_check("micro_steal", "ask", rc, CASTY_OK);
	const Result *r = CASTY_AS(Result, reply);
	bench_check("micro_steal", "reply type", r != NULL, 1);
	bench_check("micro_steal", "jobs", r->jobs, JOBS);
	double wall = t1 - t0;
	bench_metric("steal_work_ns", job_ns, "ns/job");
	bench_metric("steal_ns_per_job", wall * 1e9 / JOBS, "ns/job");
	bench_metric("steal_jobs_per_sec", JOBS / wall, "jobs/s");
	printf("steal_efficiency %.2f ratio\n",
	    JOBS * job_ns / 1e9 / (wall * (double)workers));
	bench_metric("steal_jobs_off_driver_pct",
	    100.0 * (double)r->off_driver / JOBS, "%");
	casty_msg_free(reply);
	casty_system_destroy(sys);
	return 0;
}
