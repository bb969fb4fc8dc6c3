/* magslab/magslab.h — the whole public API in one include. */
#ifndef MAGSLAB_MAGSLAB_H
#define MAGSLAB_MAGSLAB_H
#include <magslab/error.h>
#include <magslab/arena.h>
#include <magslab/slab.h>
#include <magslab/stats_fields.h>
#endif
