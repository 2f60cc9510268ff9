// examples/state_machines.c: the README's State Machines: a shopping
// cart whose three states are three behaviors; each transition is a
// return value.
#include <stdio.h>
#include <string.h>

#include <casty/casty.h>

typedef struct { char name[32]; double price; } Item;
typedef struct { char name[32]; double price; } AddItem;
typedef struct { casty_ref reply_to; } Checkout;
typedef struct { casty_ref reply_to; } GetTotal;
typedef struct { int32_t items; double total; } Receipt;
typedef struct { double value; } Total;
CASTY_MESSAGE(AddItem, name, price);
CASTY_MESSAGE(Checkout, reply_to);
CASTY_MESSAGE(GetTotal, reply_to);
CASTY_MESSAGE(Receipt, items, total);
CASTY_MESSAGE(Total, value);
CASTY_PROTOCOL(CartMsg, AddItem, Checkout, GetTotal);

#define MAX_ITEMS 16
typedef struct { int n; Item items[MAX_ITEMS]; } Items;

static casty_behavior active_cart(Items items);
static casty_behavior checked_out(void);

// Adds or replaces an item by name, as the Python's dict does.
static Items with_item(Items items, const AddItem *add)
{
	int i = 0;
	while (i < items.n && strcmp(items.items[i].name, add->name) != 0)
		i++;
	if (i < MAX_ITEMS) {
		memcpy(items.items[i].name, add->name, sizeof add->name);
		items.items[i].price = add->price;
		items.n += i == items.n;
	}
	return items;
}

static double sum(const Items *items)
{
	double total = 0;
	for (int i = 0; i < items->n; i++)
		total += items->items[i].price;
	return total;
}

CASTY_HANDLER(empty_receive, void)
{
	switch (CartMsg_tag_of(msg)) {
	case CartMsg_AddItem:
		return active_cart(with_item((Items){0}, CASTY_AS(AddItem, msg)));
	case CartMsg_Checkout:
		return casty_same(); // cannot checkout an empty cart
	case CartMsg_GetTotal:
		casty_send(CASTY_AS(GetTotal, msg)->reply_to, Total, 0.0);
		return casty_same();
	}
	return casty_unhandled();
}

CASTY_HANDLER(active_receive, Items)
{
	switch (CartMsg_tag_of(msg)) {
	case CartMsg_AddItem:
		return active_cart(with_item(*state, CASTY_AS(AddItem, msg)));
	case CartMsg_Checkout:
		casty_send(CASTY_AS(Checkout, msg)->reply_to, Receipt,
			state->n, sum(state));
		return checked_out();
	case CartMsg_GetTotal:
		casty_send(CASTY_AS(GetTotal, msg)->reply_to, Total, sum(state));
		return casty_same();
	}
	return casty_unhandled();
}

CASTY_HANDLER(checked_out_receive, void)
{
	if (CartMsg_tag_of(msg) == CartMsg_GetTotal) {
		casty_send(CASTY_AS(GetTotal, msg)->reply_to, Total, 0.0);
	}
	return casty_same(); // terminal state, ignore modifications
}

static casty_behavior empty_cart(void)
{
	return casty_receive(empty_receive, NULL, 0);
}

static casty_behavior active_cart(Items items)
{
	return casty_receive(active_receive, &items, sizeof items);
}

static casty_behavior checked_out(void)
{
	return casty_receive(checked_out_receive, NULL, 0);
}

int main(void)
{
	casty_system *system;
	CartMsg_ref cart;
	casty_msg *reply;

	casty_system_create(NULL, &system);
	casty_spawn(system, CartMsg, empty_cart(), "cart", &cart);
	casty_tell(cart, AddItem, "keyboard", 75.0);
	casty_tell(cart, AddItem, "mouse", 25.0);

	casty_ask(system, cart, GetTotal, reply_to, 5000, &reply);
	printf("Total: $%.2f\n", CASTY_AS(Total, reply)->value);
	casty_msg_free(reply);

	casty_ask(system, cart, Checkout, reply_to, 5000, &reply);
	const Receipt *receipt = CASTY_AS(Receipt, reply);
	printf("Receipt: %d items, $%.2f\n", receipt->items, receipt->total);
	casty_msg_free(reply);

	// Further modifications are ignored: checked_out is a terminal state.
	casty_tell(cart, AddItem, "monitor", 300.0);
	casty_system_destroy(system);
}
