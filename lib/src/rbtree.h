/*
 * rbtree.h — an intrusive red-black tree (CLRS, with parent pointers).
 *
 * Owns: only the links inside nodes the caller embeds.  The tree does not
 * compare keys: the caller walks down from root->node to find the link where
 * a new node belongs, then calls rb_link() and rb_insert_fixup(), as in the
 * Linux kernel.  This keeps the tree free of callbacks on the hot path.
 *
 * Invariants (checked by rb_check()): the root is black; a red node has no
 * red child; every path from a node down to a NULL leaf passes the same
 * number of black nodes; child->parent == node for every child.
 *
 * Locking: none; the owner's lock protects the tree.
 */
#ifndef MAGSLAB_RBTREE_H
#define MAGSLAB_RBTREE_H

#include <stdbool.h>
#include <stddef.h>

struct rb_node {
	struct rb_node *parent;
	struct rb_node *left;
	struct rb_node *right;
	bool red;
};

struct rb_root {
	struct rb_node *node;
};

#define RB_ROOT_INIT { NULL }

#define rb_entry(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* Puts node at *link (a NULL child pointer of parent, or &root->node when the
 * tree is empty), red, with no children.  Follow with rb_insert_fixup(). */
static inline void rb_link(struct rb_node *node, struct rb_node *parent,
			   struct rb_node **link)
{
	node->parent = parent;
	node->left = NULL;
	node->right = NULL;
	node->red = true;
	*link = node;
}

/* Restores the red-black properties after rb_link(). */
void rb_insert_fixup(struct rb_root *root, struct rb_node *node);

/* Removes node from the tree. */
void rb_erase(struct rb_root *root, struct rb_node *node);

/* Puts new in old's place (same parent, children and colour): for moving
 * a node to other memory.  old is then no longer in the tree. */
void rb_replace(struct rb_root *root, struct rb_node *old,
		struct rb_node *new);

/* In-order navigation; NULL at the ends.  rb_next/rb_prev are O(1)
 * amortised, O(log n) worst case. */
struct rb_node *rb_first(const struct rb_root *root);
struct rb_node *rb_last(const struct rb_root *root);
struct rb_node *rb_next(const struct rb_node *node);
struct rb_node *rb_prev(const struct rb_node *node);

/* Verifies the invariants above; returns the number of nodes, or -1 on the
 * first violation (with a short reason in *why when why is not NULL). */
long rb_check(const struct rb_root *root, const char **why);

#endif /* MAGSLAB_RBTREE_H */
