// examples/mailbox_configuration.c: the README's Mailbox Configuration:
// a mailbox of capacity 100 with drop_oldest, and one with backpressure.
// A producer sends 150 messages from one handler on a one-worker system,
// so the consumer cannot run before all of them are sent.
#include <stdio.h>

#include <casty/casty.h>

typedef struct { int64_t n; } Work;
typedef struct { int64_t handled, first, last; } Done;
typedef struct { casty_ref reply_to; } Run;
CASTY_MESSAGE(Work, n);
CASTY_MESSAGE(Done, handled, first, last);
CASTY_MESSAGE(Run, reply_to);
CASTY_PROTOCOL(WorkMsg, Work);
CASTY_PROTOCOL(ProducerMsg, Run, Done);

enum { SENT = 150, CAPACITY = 100 };

// The consumer tells its parent what it handled once the last one came.
CASTY_HANDLER(consumer_receive, Done)
{
	Done d = *state;
	int64_t n = CASTY_AS(Work, msg)->n;
	d.first = d.handled++ == 0 ? n : d.first;
	d.last = n;
	if (n == SENT) {
		casty_send_copy(casty_ctx_parent(ctx), Done, &d);
	}
	return casty_receive(consumer_receive, &d, sizeof d);
}

typedef struct { casty_ref asker; } Producer;

CASTY_HANDLER(producer_receive, Producer)
{
	if (ProducerMsg_tag_of(msg) == ProducerMsg_Done) {
		const Done *d = CASTY_AS(Done, msg);
		casty_send_textf(state->asker, "Handled %ld: from %ld to %ld",
			d->handled, d->first, d->last);
		return casty_same();
	}
	Producer p = {CASTY_AS(Run, msg)->reply_to};
	casty_mailbox oldest = {CAPACITY, CASTY_DROP_OLDEST};
	casty_mailbox pushback = {CAPACITY, CASTY_BACKPRESSURE};
	WorkMsg_ref bounded, strict;
	casty_ctx_spawn_mailbox(ctx, WorkMsg, casty_receive(consumer_receive,
		&(Done){0}, sizeof(Done)), "bounded-actor", &oldest, &bounded);
	casty_ctx_spawn_mailbox(ctx, WorkMsg, casty_receive(consumer_receive,
		&(Done){0}, sizeof(Done)), "strict-actor", &pushback, &strict);
	int refused = 0;
	for (int64_t n = 1; n <= SENT; n++) {
		casty_tell(bounded, Work, n);
		refused += casty_tell(strict, Work, n) == CASTY_EFULL;
	}
	printf("Backpressure: %d accepted, %d refused with CASTY_EFULL\n",
		SENT - refused, refused);
	return casty_receive(producer_receive, &p, sizeof p);
}

// Counts the dead letters; Run asks for the count.
CASTY_PROTOCOL(CountMsg, casty_dead_letter, Run);

CASTY_HANDLER(count_receive, int64_t)
{
	if (CountMsg_tag_of(msg) == CountMsg_Run) {
		casty_send(CASTY_AS(Run, msg)->reply_to, casty_int, *state);
		return casty_same();
	}
	int64_t n = *state + 1;
	return casty_receive(count_receive, &n, sizeof n);
}

int main(void)
{
	casty_system *system;
	casty_system_config config;
	ProducerMsg_ref producer;
	CountMsg_ref dead_letters;
	casty_msg *reply;

	casty_system_config_init(&config);
	config.workers = 1;
	casty_system_create(&config, &system);
	casty_spawn(system, CountMsg, casty_receive(count_receive, &(int64_t){0},
		sizeof(int64_t)), "dead-letters", &dead_letters);
	casty_subscribe(system, dead_letters, casty_dead_letter);
	casty_spawn(system, ProducerMsg, casty_receive(producer_receive,
		&(Producer){CASTY_REF_NONE}, sizeof(Producer)), "producer", &producer);

	casty_ask(system, producer, Run, reply_to, 5000, &reply);
	printf("Drop oldest: %s\n", CASTY_AS(casty_text, reply)->value);
	casty_msg_free(reply);
	casty_ask(system, dead_letters, Run, reply_to, 5000, &reply);
	printf("Drop oldest: %ld dropped as dead letters\n",
		CASTY_AS(casty_int, reply)->value);
	casty_msg_free(reply);
	casty_system_destroy(system);
}
