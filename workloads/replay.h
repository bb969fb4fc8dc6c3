/*
 * workloads/replay.h — the `replay` subcommand of magslab-workload.
 *
 * `magslab-workload replay FILE` replays an allocation trace through a set of
 * power-of-two magslab caches chosen by size class.  FILE is either a CSV file
 * (header `t_ns,thread,op,size,id`) or a CTF trace directory recorded with
 * LTTng's libc wrapper (LD_PRELOAD=liblttng-ust-libc-wrapper.so, events
 * lttng_ust_libc:*).  See workloads/README.md ("replay") for the formats, the
 * size classes, how frees are paired and the exit statuses.
 */
#ifndef MAGSLAB_WORKLOAD_REPLAY_H
#define MAGSLAB_WORKLOAD_REPLAY_H

/* argv[0] is the subcommand's name ("replay").  Returns the exit status:
 * 0 success, 1 the replay failed (allocation failure, library error),
 * 2 bad usage or bad input (unreadable or malformed trace, unpaired free). */
int wl_replay_main(int argc, char **argv);

#endif /* MAGSLAB_WORKLOAD_REPLAY_H */
