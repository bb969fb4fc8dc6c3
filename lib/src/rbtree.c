/*
 * rbtree.c — rebalancing, erase, navigation and checking for the intrusive
 * red-black tree declared in rbtree.h.
 *
 * Owns: nothing but the parent/left/right/red fields of the nodes that are
 * in a tree.  Memory for nodes belongs to the caller; the tree never
 * allocates, frees or compares keys.
 *
 * Invariants kept after every rb_insert_fixup() and rb_erase():
 *   1. the root is black (and its parent is NULL);
 *   2. a red node has no red child;
 *   3. every path from a node down to a NULL leaf has the same number of
 *      black nodes (NULL leaves count as black);
 *   4. child->parent == node for every child.
 * Together these bound the height by 2*log2(n + 1).  rb_check() verifies all
 * four, plus the structural sanity the walk itself depends on.
 *
 * The algorithms are those of Cormen, Leiserson, Rivest and Stein, adapted
 * to NULL leaves instead of a sentinel: since there is no sentinel whose
 * parent can be set temporarily, erase carries the parent of the (possibly
 * NULL) node that replaced the removed one explicitly.
 *
 * Locking: none; the owner's lock protects the tree.
 */
#include "rbtree.h"

static inline bool is_red(const struct rb_node *node)
{
	/* NULL leaves are black. */
	return node != NULL && node->red;
}

/*
 * Makes parent's link that pointed at old point at new instead (or the root
 * link when parent is NULL).  Does not touch new->parent.
 */
static void replace_child(struct rb_root *root, struct rb_node *parent,
			  struct rb_node *old, struct rb_node *new)
{
	if (parent == NULL)
		root->node = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

/*
 *     x                y
 *    / \              / \
 *   a   y    ==>     x   c
 *      / \          / \
 *     b   c        a   b
 *
 * In-order sequence is preserved; only x, y and b change links.
 */
static void rotate_left(struct rb_root *root, struct rb_node *x)
{
	struct rb_node *y = x->right;

	x->right = y->left;
	if (y->left != NULL)
		y->left->parent = x;
	y->parent = x->parent;
	replace_child(root, x->parent, x, y);
	y->left = x;
	x->parent = y;
}

/* Mirror image of rotate_left(). */
static void rotate_right(struct rb_root *root, struct rb_node *x)
{
	struct rb_node *y = x->left;

	x->left = y->right;
	if (y->right != NULL)
		y->right->parent = x;
	y->parent = x->parent;
	replace_child(root, x->parent, x, y);
	y->right = x;
	x->parent = y;
}

/*
 * The freshly linked node is red, so black heights are intact and the only
 * possible violation is a red node with a red parent (or a red root).  Each
 * iteration either pushes the violation two levels up (red uncle: recolour)
 * or removes it with at most two rotations (black uncle).
 */
void rb_insert_fixup(struct rb_root *root, struct rb_node *node)
{
	struct rb_node *parent, *grand, *uncle;

	while (is_red(node->parent)) {
		parent = node->parent;
		/* A red parent is never the root, so grand exists. */
		grand = parent->parent;

		if (parent == grand->left) {
			uncle = grand->right;
			if (is_red(uncle)) {
				/* Move grand's blackness down to both
				 * children; grand may now clash above. */
				parent->red = false;
				uncle->red = false;
				grand->red = true;
				node = grand;
				continue;
			}
			if (node == parent->right) {
				/* Turn the zig-zag into a straight line so
				 * one rotation at grand suffices. */
				rotate_left(root, parent);
				node = parent;
				parent = node->parent;
			}
			parent->red = false;
			grand->red = true;
			rotate_right(root, grand);
		} else {
			uncle = grand->left;
			if (is_red(uncle)) {
				parent->red = false;
				uncle->red = false;
				grand->red = true;
				node = grand;
				continue;
			}
			if (node == parent->left) {
				rotate_right(root, parent);
				node = parent;
				parent = node->parent;
			}
			parent->red = false;
			grand->red = true;
			rotate_left(root, grand);
		}
		/* parent is now the black top of the subtree: done. */
		break;
	}
	/* Recolouring may have reached the root; a black root costs nothing. */
	root->node->red = false;
}

/* Replaces the subtree rooted at old by the one rooted at new (may be NULL).
 * old's own links are left for the caller to reuse or discard. */
static void transplant(struct rb_root *root, struct rb_node *old,
		       struct rb_node *new)
{
	replace_child(root, old->parent, old, new);
	if (new != NULL)
		new->parent = old->parent;
}

static struct rb_node *subtree_min(struct rb_node *node)
{
	while (node->left != NULL)
		node = node->left;
	return node;
}

static struct rb_node *subtree_max(struct rb_node *node)
{
	while (node->right != NULL)
		node = node->right;
	return node;
}

/*
 * A black node was removed from above x, so every path through x is one
 * black short ("x is doubly black").  x may be NULL, hence parent is passed
 * separately.  The sibling w is never NULL: before the removal, the paths
 * through w had at least one more black node than those through x.
 *
 * Each case either fixes the deficit locally (x red: paint it black; w's far
 * child red: rotate it over), or moves it one level up (w and both its
 * children black: paint w red), or converts to one of those (w red).
 */
static void erase_fixup(struct rb_root *root, struct rb_node *x,
			struct rb_node *parent)
{
	struct rb_node *w;

	while (x != root->node && !is_red(x)) {
		if (x == parent->left) {
			w = parent->right;
			if (w->red) {
				/* Make the sibling black so the cases
				 * below apply; black heights unchanged. */
				w->red = false;
				parent->red = true;
				rotate_left(root, parent);
				w = parent->right;
			}
			if (!is_red(w->left) && !is_red(w->right)) {
				/* Take one black off both sides and push the
				 * deficit to parent. */
				w->red = true;
				x = parent;
				parent = x->parent;
				continue;
			}
			if (!is_red(w->right)) {
				/* Near child red, far child black: rotate the
				 * red to the far side. */
				w->left->red = false;
				w->red = true;
				rotate_right(root, w);
				w = parent->right;
			}
			/* Far child red: rotating w up over parent adds a
			 * black on x's side and keeps w's side balanced. */
			w->red = parent->red;
			parent->red = false;
			w->right->red = false;
			rotate_left(root, parent);
		} else {
			w = parent->left;
			if (w->red) {
				w->red = false;
				parent->red = true;
				rotate_right(root, parent);
				w = parent->left;
			}
			if (!is_red(w->left) && !is_red(w->right)) {
				w->red = true;
				x = parent;
				parent = x->parent;
				continue;
			}
			if (!is_red(w->left)) {
				w->right->red = false;
				w->red = true;
				rotate_left(root, w);
				w = parent->left;
			}
			w->red = parent->red;
			parent->red = false;
			w->left->red = false;
			rotate_right(root, parent);
		}
		/* Deficit absorbed. */
		x = root->node;
		break;
	}
	if (x != NULL)
		x->red = false;
}

void rb_erase(struct rb_root *root, struct rb_node *node)
{
	struct rb_node *x;          /* what moves into the vacated position */
	struct rb_node *x_parent;   /* its parent there (x may be NULL) */
	bool removed_red;           /* colour that left the tree */

	if (node->left == NULL) {
		x = node->right;
		x_parent = node->parent;
		removed_red = node->red;
		transplant(root, node, x);
	} else if (node->right == NULL) {
		x = node->left;
		x_parent = node->parent;
		removed_red = node->red;
		transplant(root, node, x);
	} else {
		/* Two children: node's successor y (no left child) takes
		 * node's place and colour, so the colour that effectively
		 * disappears is y's, from y's old position. */
		struct rb_node *y = subtree_min(node->right);

		removed_red = y->red;
		x = y->right;
		if (y->parent == node) {
			x_parent = y;
		} else {
			x_parent = y->parent;
			transplant(root, y, x);
			y->right = node->right;
			y->right->parent = y;
		}
		transplant(root, node, y);
		y->left = node->left;
		y->left->parent = y;
		y->red = node->red;
	}

	/* A red node that actually leaves its position has no children (a
	 * red node with one child would break invariant 3), so removing it
	 * changes no black height and brings no red next to another red. */
	if (!removed_red)
		erase_fixup(root, x, x_parent);

	/* Leave the detached node inert so stale use is easier to spot. */
	node->parent = node->left = node->right = NULL;
	node->red = false;
}

void rb_replace(struct rb_root *root, struct rb_node *old,
		struct rb_node *new)
{
	*new = *old;
	replace_child(root, old->parent, old, new);
	if (new->left)
		new->left->parent = new;
	if (new->right)
		new->right->parent = new;
}

struct rb_node *rb_first(const struct rb_root *root)
{
	return root->node != NULL ? subtree_min(root->node) : NULL;
}

struct rb_node *rb_last(const struct rb_root *root)
{
	return root->node != NULL ? subtree_max(root->node) : NULL;
}

struct rb_node *rb_next(const struct rb_node *node)
{
	const struct rb_node *parent;

	if (node->right != NULL)
		return subtree_min(node->right);
	/* Climb while we are a right child: those ancestors come before us. */
	parent = node->parent;
	while (parent != NULL && node == parent->right) {
		node = parent;
		parent = node->parent;
	}
	return (struct rb_node *)parent;
}

struct rb_node *rb_prev(const struct rb_node *node)
{
	const struct rb_node *parent;

	if (node->left != NULL)
		return subtree_max(node->left);
	parent = node->parent;
	while (parent != NULL && node == parent->left) {
		node = parent;
		parent = node->parent;
	}
	return (struct rb_node *)parent;
}

static long check_fail(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return -1;
}

/*
 * Walks the tree iteratively (O(1) space, so even a degenerate tree of any
 * depth cannot overflow the stack) using parent pointers to climb.  A child's
 * parent pointer is verified before descending into it, so every climb
 * follows a verified link and the walk cannot loop: one parent per node
 * rules out shared subtrees and cycles, except a node that is both children
 * of the same parent, which is checked explicitly.
 *
 * black is the number of black nodes from the root down to cur inclusive;
 * each NULL child of cur ends a path with that many black nodes.
 */
long rb_check(const struct rb_root *root, const char **why)
{
	const struct rb_node *cur = root->node;
	const struct rb_node *from;
	long count = 0;
	long black = 0;
	long leaf_black = -1;   /* black count of the first path seen */

	if (why != NULL)
		*why = NULL;
	if (cur == NULL)
		return 0;
	if (cur->parent != NULL)
		return check_fail(why, "root has a parent");
	if (cur->red)
		return check_fail(why, "root is red");

	from = NULL;
	while (cur != NULL) {
		if (from == cur->parent) {
			/* First arrival from above: check cur once. */
			count++;
			if (!cur->red)
				black++;
			if (cur->left != NULL && cur->left == cur->right)
				return check_fail(why,
					"node has the same left and right child");
			if (cur->left != NULL && cur->left->parent != cur)
				return check_fail(why,
					"left child's parent pointer is wrong");
			if (cur->right != NULL && cur->right->parent != cur)
				return check_fail(why,
					"right child's parent pointer is wrong");
			if (cur->red && (is_red(cur->left) ||
					 is_red(cur->right)))
				return check_fail(why, "red node has a red child");
			if (cur->left == NULL || cur->right == NULL) {
				if (leaf_black < 0)
					leaf_black = black;
				else if (black != leaf_black)
					return check_fail(why,
						"black heights differ");
			}
			if (cur->left != NULL) {
				from = cur;
				cur = cur->left;
				continue;
			}
			if (cur->right != NULL) {
				from = cur;
				cur = cur->right;
				continue;
			}
		} else if (from == cur->left && cur->right != NULL) {
			/* Left subtree done; now the right one. */
			from = cur;
			cur = cur->right;
			continue;
		}
		/* Both subtrees done: climb. */
		if (!cur->red)
			black--;
		from = cur;
		cur = cur->parent;
	}
	return count;
}
