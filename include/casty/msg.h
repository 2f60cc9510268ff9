/**
 * include/casty/msg.h: messages are plain structs with a declared schema;
 * protocols are closed unions of message types with typed refs.
 *
 *     typedef struct { int64_t amount; } Deposit;
 *     typedef struct { casty_ref reply_to; } GetBalance;
 *     CASTY_MESSAGE(Deposit, amount);
 *     CASTY_MESSAGE(GetBalance, reply_to);
 *     CASTY_PROTOCOL(AccountMsg, Deposit, GetBalance);
 *
 * CASTY_PROTOCOL gives the enum AccountMsg_tag (AccountMsg_Deposit, ...),
 * so a switch that misses a case warns under -Wall, the typed ref
 * AccountMsg_ref, and AccountMsg_tag_of(msg). casty_tell(ref, Deposit, 100)
 * compiles only when Deposit belongs to the protocol of ref.
 */
#ifndef CASTY_MSG_H
#define CASTY_MSG_H

#include <stdalign.h>
#include <stddef.h>

#include <casty/base.h>

/** casty_field_kind is the wire kind of one message field. */
typedef enum casty_field_kind {
	CASTY_FIELD_INT,   // signed integer of the field's size
	CASTY_FIELD_UINT,  // unsigned integer of the field's size
	CASTY_FIELD_FLOAT, // float or double
	CASTY_FIELD_BOOL,  // bool
	CASTY_FIELD_STR,   // char[N]: a NUL-terminated string, capacity N
	CASTY_FIELD_REF,   // casty_ref
} casty_field_kind;

/** casty_field describes one field: name, kind, size and offset. */
typedef struct casty_field {
	const char *name;
	uint16_t    kind; // casty_field_kind
	uint16_t    size;
	uint32_t    offset;
} casty_field;

/**
 * casty_msg_type is the schema of a message type: its name, size and
 * fields. CASTY_MESSAGE defines one as Type__type; the schema is what the
 * wire and the journal encode and what logs and dead letters print.
 */
typedef struct casty_msg_type {
	const char        *name;
	uint32_t           size;
	uint32_t           align;
	uint32_t           nfields;
	uint32_t           flags; // CASTY_MSG_SYSTEM for the runtime's own
	const casty_field *fields;
} casty_msg_type;

#define CASTY_MSG_SYSTEM 1u
// An event of the event stream (events.h): one that cannot be delivered
// is dropped, never published again as a dead letter.
#define CASTY_MSG_EVENT 2u

/** casty_protocol lists the message types an actor accepts, by tag. */
typedef struct casty_protocol {
	const char                  *name;
	uint32_t                     ntypes;
	const casty_msg_type *const *types;
} casty_protocol;

/**
 * casty_msg is a message envelope: a header the runtime owns followed by
 * the payload. Read the payload with CASTY_AS; the header is private.
 */
typedef struct casty_msg {
	struct casty_msg_link {
		struct casty_msg_link *_Atomic next;
	} link;
	const casty_msg_type *type;
	uint32_t              target_gen;
	uint16_t              tag;
	uint8_t               size_class;
	uint8_t               flags;
	// 8 is enough: message fields are at most 8-byte scalars (see
	// CASTY__FIELD_KIND), and a 24-byte header lets an 8-byte payload
	// fit the 32-byte envelope class.
	alignas(8) unsigned char payload[];
} casty_msg;

/** CASTY_TAG_UNKNOWN: the sender did not know the tag (untyped send). */
#define CASTY_TAG_UNKNOWN 0xffffu

/** casty_msg_data returns the payload of msg. */
static inline const void *
casty_msg_data(const casty_msg *msg)
{
	return msg->payload;
}

/** casty_msg_is tells whether msg is of type t. */
CASTY_API bool casty_msg_is(const casty_msg *msg, const casty_msg_type *t);

/**
 * CASTY_AS views msg as a const Type *, or NULL when msg is of another
 * type. Use it after switching on the tag.
 */
#define CASTY_AS(Type, msg)                                                   \
	((const Type *)(casty_msg_is((msg), &Type##__type)                    \
		? casty_msg_data(msg) : NULL))

/**
 * casty_msg_free frees a message you own (the reply of casty_ask).
 * Thread: any.
 */
CASTY_API void casty_msg_free(casty_msg *msg);

// Field kind from the field's type; any other type does not compile, so
// pointers (which would break value semantics) cannot be declared.
#define CASTY__FIELD_KIND(T, f)                                               \
	_Generic(&((T *)0)->f,                                                \
	    signed char *: CASTY_FIELD_INT, short *: CASTY_FIELD_INT,         \
	    int *: CASTY_FIELD_INT, long *: CASTY_FIELD_INT,                  \
	    long long *: CASTY_FIELD_INT,                                     \
	    unsigned char *: CASTY_FIELD_UINT,                                \
	    unsigned short *: CASTY_FIELD_UINT,                               \
	    unsigned *: CASTY_FIELD_UINT, unsigned long *: CASTY_FIELD_UINT,  \
	    unsigned long long *: CASTY_FIELD_UINT,                           \
	    float *: CASTY_FIELD_FLOAT, double *: CASTY_FIELD_FLOAT,          \
	    _Bool *: CASTY_FIELD_BOOL, casty_ref *: CASTY_FIELD_REF,          \
	    char(*)[sizeof(((T *)0)->f)]: CASTY_FIELD_STR)

#define CASTY__FIELD(T, f)                                                    \
	{#f, CASTY__FIELD_KIND(T, f), sizeof(((T *)0)->f), offsetof(T, f)},

// CASTY__EACH(M, a, x1, x2, ...) expands to M(a, x1) M(a, x2) ...
// (up to 16 items).
#define CASTY__NARG(...)                                                      \
	CASTY__NARG_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,  \
	    4, 3, 2, 1, 0)
#define CASTY__NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, \
	_14, _15, _16, N, ...)                                                \
	N
#define CASTY__CAT(a, b) CASTY__CAT_(a, b)
#define CASTY__CAT_(a, b) a##b
#define CASTY__EACH(M, a, ...)                                                \
	CASTY__CAT(CASTY__EACH_, CASTY__NARG(__VA_ARGS__))(M, a, __VA_ARGS__)
#define CASTY__EACH_1(M, a, x) M(a, x)
#define CASTY__EACH_2(M, a, x, ...) M(a, x) CASTY__EACH_1(M, a, __VA_ARGS__)
#define CASTY__EACH_3(M, a, x, ...) M(a, x) CASTY__EACH_2(M, a, __VA_ARGS__)
#define CASTY__EACH_4(M, a, x, ...) M(a, x) CASTY__EACH_3(M, a, __VA_ARGS__)
#define CASTY__EACH_5(M, a, x, ...) M(a, x) CASTY__EACH_4(M, a, __VA_ARGS__)
#define CASTY__EACH_6(M, a, x, ...) M(a, x) CASTY__EACH_5(M, a, __VA_ARGS__)
#define CASTY__EACH_7(M, a, x, ...) M(a, x) CASTY__EACH_6(M, a, __VA_ARGS__)
#define CASTY__EACH_8(M, a, x, ...) M(a, x) CASTY__EACH_7(M, a, __VA_ARGS__)
#define CASTY__EACH_9(M, a, x, ...) M(a, x) CASTY__EACH_8(M, a, __VA_ARGS__)
#define CASTY__EACH_10(M, a, x, ...) M(a, x) CASTY__EACH_9(M, a, __VA_ARGS__)
#define CASTY__EACH_11(M, a, x, ...)                                          \
	M(a, x) CASTY__EACH_10(M, a, __VA_ARGS__)
#define CASTY__EACH_12(M, a, x, ...)                                          \
	M(a, x) CASTY__EACH_11(M, a, __VA_ARGS__)
#define CASTY__EACH_13(M, a, x, ...)                                          \
	M(a, x) CASTY__EACH_12(M, a, __VA_ARGS__)
#define CASTY__EACH_14(M, a, x, ...)                                          \
	M(a, x) CASTY__EACH_13(M, a, __VA_ARGS__)
#define CASTY__EACH_15(M, a, x, ...)                                          \
	M(a, x) CASTY__EACH_14(M, a, __VA_ARGS__)
#define CASTY__EACH_16(M, a, x, ...)                                          \
	M(a, x) CASTY__EACH_15(M, a, __VA_ARGS__)

/**
 * CASTY_MESSAGE(Type, field, ...) declares the schema of the struct Type:
 * its name and its fields, in order, with kinds taken from the field
 * types (integers, floats, bool, char[N] strings and casty_ref; anything
 * else does not compile). A message without fields: CASTY_MESSAGE0(Type).
 * Put it in a header beside the struct: every translation unit shares
 * one Type__type (a weak definition).
 */
#define CASTY_MESSAGE(T, ...)                                                 \
	static const casty_field T##__fields[] = {                            \
	    CASTY__EACH(CASTY__FIELD, T, __VA_ARGS__){NULL, 0, 0, 0}};         \
	__attribute__((weak)) extern const casty_msg_type T##__type;          \
	__attribute__((weak)) const casty_msg_type T##__type = {#T,           \
	    sizeof(T), alignof(T), CASTY__NARG(__VA_ARGS__), 0, T##__fields}

#define CASTY_MESSAGE0(T)                                                     \
	__attribute__((weak)) extern const casty_msg_type T##__type;          \
	__attribute__((weak)) const casty_msg_type T##__type = {              \
	    #T, sizeof(T), alignof(T), 0, 0, NULL}

#define CASTY__TAG_ENUM(P, T) P##_##T,
#define CASTY__TAG_MEMBER(P, T) char T[P##_##T + 1];
#define CASTY__TYPE_PTR(P, T) &T##__type,

/**
 * CASTY_PROTOCOL(P, Type, ...) declares the closed set of messages an
 * actor accepts. It defines:
 *   enum P_tag { P_Type, ... }   one tag per type, in order;
 *   P_ref                        a ref that accepts exactly these types;
 *   P_tag_of(msg)                the tag of a received message;
 *   P__protocol                  the runtime descriptor (for spawn).
 */
#define CASTY_PROTOCOL(P, ...)                                                \
	typedef enum P##_tag{                                                 \
	    CASTY__EACH(CASTY__TAG_ENUM, P, __VA_ARGS__)} P##_tag;            \
	struct P##__members {                                                 \
		CASTY__EACH(CASTY__TAG_MEMBER, P, __VA_ARGS__)                \
	};                                                                    \
	typedef union P##_ref {                                               \
		casty_ref            ref;                                     \
		struct P##__members *_proto;                                  \
	} P##_ref;                                                            \
	static const casty_msg_type *const P##__types[] = {                   \
	    CASTY__EACH(CASTY__TYPE_PTR, P, __VA_ARGS__)};                    \
	__attribute__((weak)) extern const casty_protocol P##__protocol;      \
	__attribute__((weak)) const casty_protocol P##__protocol = {          \
	    #P, CASTY__NARG(__VA_ARGS__), P##__types};                        \
	__attribute__((unused)) static inline P##_tag P##_tag_of(             \
		const casty_msg *msg)                                         \
	{                                                                     \
		return (P##_tag)msg->tag;                                     \
	}                                                                     \
	__attribute__((unused)) static inline P##_ref P##_ref_from(           \
		casty_ref ref)                                                \
	{                                                                     \
		P##_ref r = {.ref = ref};                                     \
		return r;                                                     \
	}                                                                     \
	struct P##__members

// The tag of Type in the protocol of the typed ref `to`; a type outside
// the protocol has no such member and does not compile.
#define CASTY__TAG(to, T) ((uint16_t)(sizeof((to)._proto->T) - 1))

/**
 * casty_tell(to, Type, fields...) sends Type{fields...} to the typed ref
 * `to`, fire-and-forget: it never blocks. The payload is copied into an
 * envelope. Returns CASTY_OK (also when the target has stopped: the
 * message then becomes a counted dead letter, or when a bounded mailbox
 * dropped it), CASTY_EFULL when a backpressure mailbox is full (mailbox.h),
 * CASTY_ENOREF for the empty ref, CASTY_ESTOPPED once the system has
 * terminated, or -EINVAL.
 * Thread: any.
 */
#define casty_tell(to, T, ...)                                                \
	casty_tell_msg((to).ref, &T##__type, CASTY__TAG(to, T),               \
	    &(T){__VA_ARGS__})

/**
 * casty_send(ref, Type, fields...) is casty_tell for an untyped casty_ref
 * (a reply_to). The target checks the type on arrival: a type outside its
 * protocol is an unhandled message, never a crash. Thread: any.
 */
#define casty_send(ref, T, ...)                                               \
	casty_tell_msg((ref), &T##__type, CASTY_TAG_UNKNOWN, &(T){__VA_ARGS__})

/**
 * casty_tell_copy(to, Type, ptr) sends a copy of the Type that ptr points
 * to (a message built field by field); casty_send_copy is its untyped
 * twin. Return as casty_tell. Thread: any.
 */
#define casty_tell_copy(to, T, ptr)                                           \
	casty_tell_msg((to).ref, &T##__type, CASTY__TAG(to, T),               \
	    _Generic((ptr), T *: (ptr), const T *: (ptr)))
#define casty_send_copy(ref, T, ptr)                                          \
	casty_tell_msg((ref), &T##__type, CASTY_TAG_UNKNOWN,                  \
	    _Generic((ptr), T *: (ptr), const T *: (ptr)))

/**
 * casty_tell_msg copies type->size bytes from payload into a new envelope
 * and delivers it to `to`. tag is the type's tag in the target's protocol
 * or CASTY_TAG_UNKNOWN. Returns as casty_tell. Thread: any.
 */
CASTY_API int casty_tell_msg(casty_ref to, const casty_msg_type *type,
    unsigned tag, const void *payload);

// Built-in message types, for replies and death watch.

/** casty_int carries one integer (a reply such as a balance). */
typedef struct casty_int {
	int64_t value;
} casty_int;
CASTY_API extern const casty_msg_type casty_int__type;

/** casty_text carries one short string (a reply such as "ok"). */
typedef struct casty_text {
	char value[96];
} casty_text;
CASTY_API extern const casty_msg_type casty_text__type;

/**
 * casty_send_textf sends a casty_text formatted as printf does
 * (truncated to its capacity) to ref. Returns as casty_tell. Thread: any.
 */
CASTY_API int casty_send_textf(casty_ref ref, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * casty_terminated is delivered to a watcher when the actor it watches
 * has stopped. Add it to the watcher's protocol. path is the stopped
 * actor's path (truncated to its capacity; empty when the actor was gone
 * before the watch began, or, for an actor of another node, when that
 * node left the cluster).
 */
typedef struct casty_terminated {
	casty_ref ref;
	char      path[112];
} casty_terminated;
CASTY_API extern const casty_msg_type casty_terminated__type;

#endif // CASTY_MSG_H
