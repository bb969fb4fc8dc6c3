/*
 * test_rbtree.c — cmocka tests for the intrusive red-black tree (rbtree.h).
 *
 * Every case uses a fixed, printed-on-failure seed (override with the
 * environment variable RBTREE_SEED=<number> to explore others) and a private
 * PRNG, so a failure replays exactly.  rb_check() is run after every batch
 * of operations and the in-order walk (rb_next forward, rb_prev backward)
 * is compared with a sorted shadow copy of the keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbtree.h"

#define NKEYS        100000
#define CHECK_EVERY  1000
#define DEFAULT_SEED 0x5eedb1ac4b1aull

struct item {
	uint64_t key;
	struct rb_node node;
};

/* Base seed of the run and seed of the running case (base ^ case number),
 * both printed by every failure message. */
static uint64_t base_seed, case_seed;

#define FAIL(...) do { \
	print_message("rbtree test failed: case seed %#" PRIx64 \
		      ", base seed %#" PRIx64 " (rerun: RBTREE_SEED=%#" \
		      PRIx64 ")\n", case_seed, base_seed, base_seed); \
	fail_msg(__VA_ARGS__); \
} while (0)

#define CHECK(cond, ...) do { if (!(cond)) FAIL(__VA_ARGS__); } while (0)

/* splitmix64: tiny, good enough, and identical everywhere. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t rng_below(size_t n)
{
	return (size_t)(rng_next() % n);
}

static void seed_case(uint64_t salt)
{
	const char *env = getenv("RBTREE_SEED");

	base_seed = env != NULL ? strtoull(env, NULL, 0) : DEFAULT_SEED;
	case_seed = base_seed ^ salt;
	rng_state = case_seed;
}

static void shuffle(uint64_t *a, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_below(i);
		uint64_t t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static struct item *node_item(const struct rb_node *node)
{
	return rb_entry(node, struct item, node);
}

/*
 * Insertion as a caller of this API writes it: walk down comparing keys to
 * find the NULL link where the key belongs, then rb_link + rb_insert_fixup.
 * Returns false (and leaves the tree alone) if the key is already present.
 */
static bool item_insert(struct rb_root *root, struct item *it)
{
	struct rb_node **link = &root->node;
	struct rb_node *parent = NULL;

	while (*link != NULL) {
		struct item *cur = node_item(*link);

		parent = *link;
		if (it->key < cur->key)
			link = &parent->left;
		else if (it->key > cur->key)
			link = &parent->right;
		else
			return false;
	}
	rb_link(&it->node, parent, link);
	rb_insert_fixup(root, &it->node);
	return true;
}

static struct item *item_find(const struct rb_root *root, uint64_t key)
{
	const struct rb_node *n = root->node;

	while (n != NULL) {
		struct item *cur = node_item(n);

		if (key < cur->key)
			n = n->left;
		else if (key > cur->key)
			n = n->right;
		else
			return cur;
	}
	return NULL;
}

static void check_tree(const struct rb_root *root, long expect,
		       const char *when)
{
	const char *why = "(none)";
	long n = rb_check(root, &why);

	CHECK(n >= 0, "rb_check failed %s: %s", when, why ? why : "(null)");
	CHECK(n == expect, "rb_check counted %ld nodes %s, expected %ld",
	      n, when, expect);
}

static int height(const struct rb_node *n)
{
	int l, r;

	if (n == NULL)
		return 0;
	l = height(n->left);
	r = height(n->right);
	return 1 + (l > r ? l : r);
}

/* A red-black tree of n nodes has height at most 2*log2(n+1). */
static void check_height(const struct rb_root *root, size_t n)
{
	int h = height(root->node);
	int lg = 0;

	while (((size_t)1 << lg) < n + 1)
		lg++;               /* lg = ceil(log2(n + 1)) */
	CHECK(h <= 2 * lg, "height %d exceeds 2*ceil(log2(%zu+1)) = %d",
	      h, n, 2 * lg);
}

/* Compares the in-order walk both ways with sorted[0..n). */
static void check_order(const struct rb_root *root, const uint64_t *sorted,
			size_t n)
{
	const struct rb_node *node;
	size_t i;

	i = 0;
	for (node = rb_first(root); node != NULL; node = rb_next(node)) {
		CHECK(i < n, "forward walk longer than %zu", n);
		CHECK(node_item(node)->key == sorted[i],
		      "forward walk: position %zu has key %" PRIu64
		      ", expected %" PRIu64, i, node_item(node)->key,
		      sorted[i]);
		i++;
	}
	CHECK(i == n, "forward walk visited %zu of %zu", i, n);

	i = n;
	for (node = rb_last(root); node != NULL; node = rb_prev(node)) {
		CHECK(i > 0, "backward walk longer than %zu", n);
		i--;
		CHECK(node_item(node)->key == sorted[i],
		      "backward walk: position %zu has key %" PRIu64
		      ", expected %" PRIu64, i, node_item(node)->key,
		      sorted[i]);
	}
	CHECK(i == 0, "backward walk stopped %zu short", i);
}

/* Inserts keys[0..n) one by one (checking every CHECK_EVERY), then checks
 * the walk against the sorted keys and the height bound. */
static void insert_all_and_check(struct rb_root *root, struct item *items,
				 const uint64_t *keys, size_t n)
{
	uint64_t *sorted = malloc(n * sizeof(*sorted));
	char when[64];

	assert_non_null(sorted);
	for (size_t i = 0; i < n; i++) {
		items[i].key = keys[i];
		CHECK(item_insert(root, &items[i]),
		      "key %" PRIu64 " reported as duplicate", keys[i]);
		if ((i + 1) % CHECK_EVERY == 0 || i + 1 == n) {
			snprintf(when, sizeof(when), "after %zu inserts", i + 1);
			check_tree(root, (long)(i + 1), when);
		}
	}
	memcpy(sorted, keys, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	check_order(root, sorted, n);
	check_height(root, n);
	free(sorted);
}

static void test_empty(void **state)
{
	struct rb_root root = RB_ROOT_INIT;
	const char *why = "untouched";

	(void)state;
	seed_case(0);
	assert_null(rb_first(&root));
	assert_null(rb_last(&root));
	assert_int_equal(rb_check(&root, &why), 0);
	assert_null(why);
	assert_int_equal(rb_check(&root, NULL), 0);
	assert_null(item_find(&root, 42));
}

static void test_single(void **state)
{
	struct rb_root root = RB_ROOT_INIT;
	struct item it = { .key = 7 };

	(void)state;
	seed_case(1);
	assert_true(item_insert(&root, &it));
	assert_ptr_equal(root.node, &it.node);
	assert_false(it.node.red);
	assert_null(it.node.parent);
	assert_ptr_equal(rb_first(&root), &it.node);
	assert_ptr_equal(rb_last(&root), &it.node);
	assert_null(rb_next(&it.node));
	assert_null(rb_prev(&it.node));
	check_tree(&root, 1, "with one node");

	rb_erase(&root, &it.node);
	assert_null(root.node);
	check_tree(&root, 0, "after erasing the only node");
	/* The node can go straight back in. */
	assert_true(item_insert(&root, &it));
	check_tree(&root, 1, "after reinserting");
}

static void run_pattern(uint64_t *keys)
{
	struct rb_root root = RB_ROOT_INIT;
	struct item *items = calloc(NKEYS, sizeof(*items));

	assert_non_null(items);
	insert_all_and_check(&root, items, keys, NKEYS);
	free(items);
}

static void test_insert_ascending(void **state)
{
	uint64_t *keys = malloc(NKEYS * sizeof(*keys));

	(void)state;
	seed_case(2);
	assert_non_null(keys);
	for (size_t i = 0; i < NKEYS; i++)
		keys[i] = i;
	run_pattern(keys);
	free(keys);
}

static void test_insert_descending(void **state)
{
	uint64_t *keys = malloc(NKEYS * sizeof(*keys));

	(void)state;
	seed_case(3);
	assert_non_null(keys);
	for (size_t i = 0; i < NKEYS; i++)
		keys[i] = (uint64_t)(NKEYS - i) * 3;
	run_pattern(keys);
	free(keys);
}

static void test_insert_random(void **state)
{
	uint64_t *keys = malloc(NKEYS * sizeof(*keys));

	(void)state;
	seed_case(4);
	assert_non_null(keys);
	/* Distinct keys with random gaps, in random order. */
	for (size_t i = 0; i < NKEYS; i++)
		keys[i] = (uint64_t)i * 1000 + rng_below(1000);
	shuffle(keys, NKEYS);
	run_pattern(keys);
	free(keys);
}

/* Random keys from a small range: most insert attempts are duplicates and
 * must be refused without disturbing the tree. */
static void test_duplicates_refused(void **state)
{
	enum { RANGE = 2000, TRIES = 20000 };
	struct rb_root root = RB_ROOT_INIT;
	struct item *items = calloc(TRIES, sizeof(*items));
	bool present[RANGE] = { false };
	uint64_t sorted[RANGE];
	long n = 0;
	size_t ns = 0;

	(void)state;
	seed_case(5);
	assert_non_null(items);
	for (size_t i = 0; i < TRIES; i++) {
		uint64_t k = rng_below(RANGE);
		bool fresh;

		items[i].key = k;
		fresh = item_insert(&root, &items[i]);
		CHECK(fresh == !present[k], "insert of key %" PRIu64
		      " returned %d, key was %spresent", k, fresh,
		      present[k] ? "" : "not ");
		if (fresh) {
			present[k] = true;
			n++;
		} else {
			CHECK(item_find(&root, k) != &items[i],
			      "duplicate key %" PRIu64 " got linked", k);
		}
		if ((i + 1) % CHECK_EVERY == 0)
			check_tree(&root, n, "while inserting duplicates");
	}
	for (uint64_t k = 0; k < RANGE; k++)
		if (present[k])
			sorted[ns++] = k;
	assert_int_equal(ns, (size_t)n);
	check_order(&root, sorted, ns);
	free(items);
}

/* Inserts NKEYS random keys, erases a random half then the rest, checking
 * every CHECK_EVERY erases and comparing the walk with the survivors. */
static void test_random_erase(void **state)
{
	struct rb_root root = RB_ROOT_INIT;
	struct item *items = calloc(NKEYS, sizeof(*items));
	uint64_t *keys = malloc(NKEYS * sizeof(*keys));
	uint64_t *order = malloc(NKEYS * sizeof(*order));
	uint64_t *left = malloc(NKEYS * sizeof(*left));
	char when[64];
	size_t i, nleft;

	(void)state;
	seed_case(6);
	assert_non_null(items);
	assert_non_null(keys);
	assert_non_null(order);
	assert_non_null(left);

	for (i = 0; i < NKEYS; i++)
		keys[i] = (uint64_t)i * 16 + rng_below(16);
	shuffle(keys, NKEYS);
	insert_all_and_check(&root, items, keys, NKEYS);

	/* Erase order: a random permutation of item indices. */
	for (i = 0; i < NKEYS; i++)
		order[i] = i;
	shuffle(order, NKEYS);

	for (i = 0; i < NKEYS; i++) {
		struct item *it = &items[order[i]];

		CHECK(item_find(&root, it->key) == it,
		      "key %" PRIu64 " not found before erase %zu",
		      it->key, i);
		rb_erase(&root, &it->node);
		CHECK(item_find(&root, it->key) == NULL,
		      "key %" PRIu64 " still found after erase", it->key);
		if ((i + 1) % CHECK_EVERY == 0) {
			snprintf(when, sizeof(when), "after %zu erases", i + 1);
			check_tree(&root, (long)(NKEYS - i - 1), when);
		}
		if (i + 1 == NKEYS / 2) {
			/* Half gone: the survivors are order[NKEYS/2..). */
			nleft = 0;
			for (size_t j = NKEYS / 2; j < NKEYS; j++)
				left[nleft++] = items[order[j]].key;
			qsort(left, nleft, sizeof(*left), cmp_u64);
			check_order(&root, left, nleft);
			check_height(&root, nleft);
		}
	}
	assert_null(root.node);
	assert_null(rb_first(&root));
	assert_null(rb_last(&root));
	check_tree(&root, 0, "after erasing everything");

	free(left);
	free(order);
	free(keys);
	free(items);
}

/* Inserts and erases interleaved at random against a presence shadow. */
static void test_mixed_ops(void **state)
{
	enum { RANGE = 5000, OPS = 200000 };
	struct rb_root root = RB_ROOT_INIT;
	struct item *items = calloc(RANGE, sizeof(*items));
	bool *in = calloc(RANGE, sizeof(*in));
	uint64_t *sorted = malloc(RANGE * sizeof(*sorted));
	long n = 0;
	size_t ns;

	(void)state;
	seed_case(7);
	assert_non_null(items);
	assert_non_null(in);
	assert_non_null(sorted);
	for (size_t k = 0; k < RANGE; k++)
		items[k].key = k;

	for (size_t op = 0; op < OPS; op++) {
		size_t k = rng_below(RANGE);

		if (in[k]) {
			rb_erase(&root, &items[k].node);
			in[k] = false;
			n--;
		} else {
			CHECK(item_insert(&root, &items[k]),
			      "fresh key %zu refused", k);
			in[k] = true;
			n++;
		}
		if ((op + 1) % (CHECK_EVERY * 10) == 0) {
			check_tree(&root, n, "during mixed operations");
			ns = 0;
			for (size_t j = 0; j < RANGE; j++)
				if (in[j])
					sorted[ns++] = j;
			check_order(&root, sorted, ns);
		}
	}
	free(sorted);
	free(in);
	free(items);
}

/* Builds a tree of keys 1..n inserted in ascending order. */
static void build_small(struct rb_root *root, struct item *items, size_t n)
{
	root->node = NULL;
	for (size_t i = 0; i < n; i++) {
		items[i].key = i + 1;
		assert_true(item_insert(root, &items[i]));
	}
	check_tree(root, (long)n, "after building the small tree");
}

/* Erases the item with key k from the small tree and checks the rest. */
static void erase_and_verify(struct rb_root *root, struct item *items,
			     size_t n, uint64_t k)
{
	uint64_t sorted[64];
	size_t ns = 0;

	assert_true(n <= 64);
	rb_erase(root, &items[k - 1].node);
	check_tree(root, (long)n - 1, "after the targeted erase");
	assert_null(item_find(root, k));
	for (uint64_t j = 1; j <= n; j++)
		if (j != k)
			sorted[ns++] = j;
	check_order(root, sorted, ns);
}

static void test_erase_root(void **state)
{
	enum { N = 31 };
	struct rb_root root;
	struct item items[N];
	bool in[N + 1];
	uint64_t sorted[N];

	(void)state;
	seed_case(8);
	/* Erase whatever is at the root until the tree is empty; the first
	 * roots have two children, the last ones one or none. */
	build_small(&root, items, N);
	for (uint64_t k = 1; k <= N; k++)
		in[k] = true;
	for (long left = N; left > 0; left--) {
		struct rb_node *r = root.node;
		uint64_t k;
		size_t ns = 0;

		assert_non_null(r);
		k = node_item(r)->key;
		rb_erase(&root, r);
		in[k] = false;
		check_tree(&root, left - 1, "after erasing the root");
		assert_null(item_find(&root, k));
		for (uint64_t j = 1; j <= N; j++)
			if (in[j])
				sorted[ns++] = j;
		check_order(&root, sorted, ns);
	}
	assert_null(root.node);
}

static void test_erase_two_children(void **state)
{
	enum { N = 31 };
	struct rb_root root;
	struct item items[N];
	int tried = 0;

	(void)state;
	seed_case(9);
	/* For every key whose node has two children (root included), erase
	 * it from a fresh tree and verify. */
	for (uint64_t k = 1; k <= N; k++) {
		struct rb_node *n;

		build_small(&root, items, N);
		n = &items[k - 1].node;
		if (n->left == NULL || n->right == NULL)
			continue;
		tried++;
		erase_and_verify(&root, items, N, k);
	}
	assert_true(tried > 5);

	/* Successor deep in the right subtree (not the right child itself):
	 * exercises the transplant of the successor's right child. */
	build_small(&root, items, N);
	{
		struct rb_node *r = root.node;
		struct rb_node *succ = rb_next(r);

		assert_non_null(r->left);
		assert_non_null(r->right);
		assert_ptr_not_equal(succ, r->right);
		erase_and_verify(&root, items, N, node_item(r)->key);
	}
}

static void test_erase_leaf(void **state)
{
	enum { N = 31 };
	struct rb_root root;
	struct item items[N];
	int red = 0, black = 0;

	(void)state;
	seed_case(10);
	/* Every leaf, red or black, from a fresh tree. */
	for (uint64_t k = 1; k <= N; k++) {
		struct rb_node *n;

		build_small(&root, items, N);
		n = &items[k - 1].node;
		if (n->left != NULL || n->right != NULL)
			continue;
		if (n->red)
			red++;
		else
			black++;
		erase_and_verify(&root, items, N, k);
	}
	/* Ascending insertion leaves both colours of leaves at 31 nodes. */
	assert_true(red > 0);
	assert_true(black > 0);

	/* Nodes with exactly one child too. */
	for (uint64_t k = 1; k <= N; k++) {
		struct rb_node *n;

		build_small(&root, items, N);
		n = &items[k - 1].node;
		if ((n->left == NULL) == (n->right == NULL))
			continue;
		erase_and_verify(&root, items, N, k);
	}
}

/* rb_replace moves every node (root, inner, leaf; both colours) to other
 * memory: the tree stays valid, in order, and the old nodes are unused. */
static void test_replace(void **state)
{
	enum { N = 2000 };
	struct item *a = calloc(N, sizeof(*a)), *b = calloc(N, sizeof(*b));
	uint64_t *keys = malloc(N * sizeof(*keys)), *sorted;
	struct rb_root root = RB_ROOT_INIT;

	(void)state;
	assert_true(a && b && keys);
	seed_case(11);
	for (size_t i = 0; i < N; i++)
		keys[i] = i * 3 + 1;
	shuffle(keys, N);
	insert_all_and_check(&root, a, keys, N);
	for (size_t i = 0; i < N; i++) {
		size_t j = (i * 7919) % N;      /* an order unrelated to keys */

		b[j].key = a[j].key;
		rb_replace(&root, &a[j].node, &b[j].node);
		memset(&a[j], 0xa5, sizeof(a[j]));  /* nothing may use it */
		if ((i + 1) % 500 == 0)
			check_tree(&root, N, "while replacing");
	}
	sorted = malloc(N * sizeof(*sorted));
	assert_non_null(sorted);
	memcpy(sorted, keys, N * sizeof(*sorted));
	qsort(sorted, N, sizeof(*sorted), cmp_u64);
	check_order(&root, sorted, N);
	for (size_t i = 0; i < N; i++)
		CHECK(item_find(&root, keys[i]) != NULL &&
		      item_find(&root, keys[i]) >= b &&
		      item_find(&root, keys[i]) < b + N,
		      "key %" PRIu64 " not found in the new nodes", keys[i]);
	free(sorted);
	free(keys);
	free(a);
	free(b);
}

/* rb_check must catch each kind of damage, with a reason. */
static void test_check_detects(void **state)
{
	struct rb_root root;
	struct item a = { .key = 1 }, b = { .key = 2 }, c = { .key = 3 };
	const char *why;

	(void)state;
	seed_case(11);

	/* b(black) with children a, c (red): valid. */
	root.node = NULL;
	assert_true(item_insert(&root, &b));
	assert_true(item_insert(&root, &a));
	assert_true(item_insert(&root, &c));
	assert_ptr_equal(root.node, &b.node);
	assert_int_equal(rb_check(&root, &why), 3);

	b.node.red = true;
	why = NULL;
	assert_int_equal(rb_check(&root, &why), -1);
	assert_non_null(why);
	print_message("red root: %s\n", why);
	b.node.red = false;

	c.node.red = false;         /* black heights 1 vs 2 */
	why = NULL;
	assert_int_equal(rb_check(&root, &why), -1);
	assert_non_null(why);
	print_message("unequal black heights: %s\n", why);
	c.node.red = true;

	/* Red-red: a red d under red c.  Every path still has one black
	 * node (b), so only the colour rule is broken. */
	{
		struct item d = { .key = 4 };

		rb_link(&d.node, &c.node, &c.node.right);
		why = NULL;
		assert_int_equal(rb_check(&root, &why), -1);
		assert_non_null(why);
		print_message("red-red: %s\n", why);
		c.node.right = NULL;
	}
	assert_int_equal(rb_check(&root, &why), 3);

	a.node.parent = &c.node;    /* wrong parent pointer */
	why = NULL;
	assert_int_equal(rb_check(&root, &why), -1);
	assert_non_null(why);
	print_message("bad parent: %s\n", why);
	a.node.parent = &b.node;

	b.node.parent = &a.node;    /* root with a parent */
	assert_int_equal(rb_check(&root, NULL), -1);
	b.node.parent = NULL;

	assert_int_equal(rb_check(&root, &why), 3);
	assert_null(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_insert_ascending),
		cmocka_unit_test(test_insert_descending),
		cmocka_unit_test(test_insert_random),
		cmocka_unit_test(test_duplicates_refused),
		cmocka_unit_test(test_random_erase),
		cmocka_unit_test(test_mixed_ops),
		cmocka_unit_test(test_erase_root),
		cmocka_unit_test(test_erase_two_children),
		cmocka_unit_test(test_erase_leaf),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_check_detects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
