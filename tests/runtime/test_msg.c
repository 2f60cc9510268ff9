// tests/runtime/test_msg.c: message schemas and protocols.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>

#include <casty/casty.h>

typedef struct {
	int64_t   amount;
	uint32_t  flags;
	double    rate;
	bool      ok;
	char      note[24];
	casty_ref reply_to;
} Mixed;
typedef struct {
	int8_t a;
} Small;
CASTY_MESSAGE(Mixed, amount, flags, rate, ok, note, reply_to);
CASTY_MESSAGE(Small, a);
CASTY_PROTOCOL(P, Mixed, Small, casty_int);

TestSuite(msg);

Test(msg, a_schema_lists_every_field_with_kind_size_and_offset)
{
	const casty_msg_type *t = &Mixed__type;
	cr_assert(eq(str, (char *)t->name, "Mixed"));
	cr_assert(eq(u32, t->size, sizeof(Mixed)));
	cr_assert(eq(u32, t->nfields, 6));
	struct {
		const char *name;
		int         kind;
		size_t      size, offset;
	} want[] = {
		{"amount", CASTY_FIELD_INT, 8, offsetof(Mixed, amount)},
		{"flags", CASTY_FIELD_UINT, 4, offsetof(Mixed, flags)},
		{"rate", CASTY_FIELD_FLOAT, 8, offsetof(Mixed, rate)},
		{"ok", CASTY_FIELD_BOOL, 1, offsetof(Mixed, ok)},
		{"note", CASTY_FIELD_STR, 24, offsetof(Mixed, note)},
		{"reply_to", CASTY_FIELD_REF, sizeof(casty_ref),
			offsetof(Mixed, reply_to)},
	};
	for (int i = 0; i < 6; i++) {
		cr_assert(eq(str, (char *)t->fields[i].name, (char *)want[i].name));
		cr_assert(eq(int, t->fields[i].kind, want[i].kind));
		cr_assert(eq(sz, t->fields[i].size, want[i].size));
		cr_assert(eq(sz, t->fields[i].offset, want[i].offset));
	}
	cr_assert(eq(ptr, (void *)t->fields[6].name, NULL), "terminated");
}

Test(msg, a_protocol_numbers_its_types_in_order)
{
	cr_assert(eq(int, P_Mixed, 0));
	cr_assert(eq(int, P_Small, 1));
	cr_assert(eq(int, P_casty_int, 2));
	cr_assert(eq(u32, P__protocol.ntypes, 3));
	cr_assert(eq(ptr, (void *)P__protocol.types[1], (void *)&Small__type));
	cr_assert(eq(str, (char *)P__protocol.name, "P"));
}

Test(msg, builtin_types_have_schemas)
{
	cr_assert(eq(str, (char *)casty_int__type.name, "casty_int"));
	cr_assert(eq(u32, casty_int__type.fields[0].kind, CASTY_FIELD_INT));
	cr_assert(eq(u32, casty_text__type.fields[0].kind, CASTY_FIELD_STR));
	cr_assert(eq(u32, casty_terminated__type.nfields, 2));
}

Test(msg, system_types_cannot_be_sent_by_users)
{
	static const casty_msg_type fake = {"fake", 8, 8, 0, CASTY_MSG_SYSTEM,
		NULL};
	int64_t payload = 0;
	cr_assert(eq(int, casty_tell_msg(CASTY_REF_NONE, &fake, 0, &payload),
		-22));
	cr_assert(eq(int, casty_tell_msg(CASTY_REF_NONE, NULL, 0, &payload),
		-22));
}
