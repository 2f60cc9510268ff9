// bench/chameneos.c: Savina's chameneos, as chameneos in ../shared/peers
// (CAF and Erlang): 500 chameneos ask one mall actor for meetings,
// 2,000,000 meetings in all (about 4 messages each).
//
// The protocol is CAF's: a chameneo sends Meet(colour, self) to the mall;
// the mall keeps the first request waiting and, on the second, forwards
// that one's colour and handle to the waiting chameneo, which takes the
// complementary colour, tells its partner with Change and asks the mall
// again; the partner adopts the colour and asks again. Once the meetings
// are used up, the mall answers every request with Stop, and each
// chameneo reports its own meeting count before it stops. Validated:
// meetings left = 0 and the reported counts sum to 4,000,000.
//
// main asks the mall to start, which spawns the chameneos as its children
// (CAF spawns them from main; the mall's start message carries the reply
// ref). The time runs from just before the mall's spawn until the reply
// arrived at main.
#include <casty/casty.h>

#include "bench/drive.h"

#define CHAMENEOS ((int32_t)500)
#define MEETINGS ((int32_t)2000000)

typedef struct {
	int32_t   color;
	casty_ref who;
} Meet;
typedef struct {
	int32_t color;
} Change;
typedef struct {
	int32_t unused;
} Stop;
typedef struct {
	int64_t meetings;
} MeetCount;
typedef struct {
	int64_t total;
	int64_t left;
} Result;
CASTY_MESSAGE(Meet, color, who);
CASTY_MESSAGE(Change, color);
CASTY_MESSAGE(Stop, unused);
CASTY_MESSAGE(MeetCount, meetings);
CASTY_MESSAGE(Result, total, left);
CASTY_PROTOCOL(MallMsg, Start, Meet, MeetCount);
CASTY_PROTOCOL(ChamMsg, Meet, Change, Stop);

static int32_t
complement(int32_t a, int32_t b)
{
	return a == b ? a : 3 - a - b;
}

// A chameneo: its colour and meetings; the mall is its parent.
typedef struct {
	int32_t color;
	int64_t meetings;
} Cham;

static casty_behavior cham(Cham state);

CASTY_HANDLER(cham_receive, Cham)
{
	MallMsg_ref mall = MallMsg_ref_from(casty_ctx_parent(ctx));
	switch (ChamMsg_tag_of(msg)) {
	case ChamMsg_Meet: {
		const Meet *m     = CASTY_AS(Meet, msg);
		int32_t     color = complement(state->color, m->color);
		Cham        next  = {color, state->meetings + 1};
		casty_tell(ChamMsg_ref_from(m->who), Change, next.color);
		casty_tell(mall, Meet, next.color, casty_self(ctx));
		return cham(next);
	}
	case ChamMsg_Change: {
		Cham next = {CASTY_AS(Change, msg)->color, state->meetings + 1};
		casty_tell(mall, Meet, next.color, casty_self(ctx));
		return cham(next);
	}
	case ChamMsg_Stop:
		casty_tell(mall, MeetCount, state->meetings);
		return casty_stopped();
	}
	return casty_unhandled();
}

static casty_behavior
cham(Cham state)
{
	return casty_receive(cham_receive, &state, sizeof state);
}

CASTY_SETUP(cham_setup, Cham)
{
	casty_tell(MallMsg_ref_from(casty_ctx_parent(ctx)), Meet, state->color,
	    casty_self(ctx));
	return cham(*state);
}

// The mall. Packed into 48 bytes so that its state stays inline in the
// behavior value (behavior.h): a bigger one would cost an allocation on
// every transition, which is the user's choice to avoid, not the
// runtime's.
typedef struct {
	int32_t     left;         // meetings still to arrange
	int32_t     reports_left; // chameneos yet to report
	int64_t     total;        // reported meetings so far
	ChamMsg_ref waiting;      // CASTY_REF_NONE when nobody waits
	casty_ref   reply_to;
} Mall;

static casty_behavior mall(Mall state);

CASTY_HANDLER(mall_receive, Mall)
{
	switch (MallMsg_tag_of(msg)) {
	case MallMsg_Start:
		for (int32_t i = 0; i < CHAMENEOS; i++) {
			Cham        c = {i % 3, 0};
			ChamMsg_ref ref;
			casty_ctx_spawn(ctx, ChamMsg,
			    casty_setup(cham_setup, &c, sizeof c), NULL, &ref);
		}
		return mall((Mall){MEETINGS, CHAMENEOS, 0, {CASTY_REF_NONE},
		    CASTY_AS(Start, msg)->reply_to});
	case MallMsg_Meet: {
		const Meet *m    = CASTY_AS(Meet, msg);
		Mall        next = *state;
		if (state->left == 0) {
			casty_tell(ChamMsg_ref_from(m->who), Stop, 0);
			return casty_same();
		}
		if (casty_ref_is_none(state->waiting.ref)) {
			next.waiting = ChamMsg_ref_from(m->who);
		} else {
			next.left--;
			casty_tell(state->waiting, Meet, m->color, m->who);
			next.waiting = ChamMsg_ref_from(CASTY_REF_NONE);
		}
		return mall(next);
	}
	case MallMsg_MeetCount: {
		Mall next = *state;
		next.total += CASTY_AS(MeetCount, msg)->meetings;
		if (--next.reports_left == 0) {
			casty_send(
			    next.reply_to, Result, next.total, next.left);
			return casty_stopped();
		}
		return mall(next);
	}
	}
	return casty_unhandled();
}

static casty_behavior
mall(Mall state)
{
	return casty_receive(mall_receive, &state, sizeof state);
}

int
main(void)
{
	casty_system *sys;
	double        seconds;
	casty_msg    *reply = bench_drive("chameneos", &MallMsg__protocol,
		   mall((Mall){0, 0, 0, {CASTY_REF_NONE}, CASTY_REF_NONE}),
		   &Result__type, &sys, &seconds);
	const Result *r = CASTY_AS(Result, reply);
	bench_check("chameneos", "meetings left", r->left, 0);
	bench_check("chameneos", "sum of per-chameneo meetings", r->total,
	    2 * (int64_t)MEETINGS);
	casty_msg_free(reply);
	casty_system_destroy(sys);
	bench_report("chameneos", MEETINGS, seconds);
	return 0;
}
