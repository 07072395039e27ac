/*
 * controllers.h - slipwayd's level-triggered controllers: ReplicaSet,
 * Deployment, garbage collector and namespace, on the daemon's event loop.
 *
 * Each controller keeps a work queue of keys ("ns/name"; the namespace
 * controller and the collector use "ns") with de-duplication. Store watch
 * callbacks only enqueue; syncs run on the loop, read the store afresh
 * (no cache, so a burst of events never makes duplicates), write through
 * sw_store_* with resourceVersion preconditions, and are retried with
 * back-off after a conflict or error. A periodic resync re-queues
 * everything. ReplicaSet work runs before Deployment work so a Deployment
 * always sees its ReplicaSets' status after their pods were created or
 * deleted (this is what keeps maxSurge/maxUnavailable bounds exact).
 *
 * Not here: the node agent (it runs pods and sets their status), service
 * endpoints, the autoscaler. The collector does background propagation
 * only (no foreground or orphan deletion).
 */
#ifndef SLIPWAY_CONTROLLERS_H
#define SLIPWAY_CONTROLLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "slipway/error.h"
#include "slipway/store.h"

struct event_base;
typedef struct sw_controllers sw_controllers;

/* Starts every controller on base: watches the store, queues every
 * existing Deployment, ReplicaSet and terminating Namespace, and resyncs
 * every 30 s. The store must outlive the controllers. */
int sw_controllers_start(sw_controllers **out, struct event_base *base, sw_store *store,
                         sw_error **err);
/* Stops watching and frees; queued work is dropped (level-triggered: the
 * next start redoes it). */
void sw_controllers_free(sw_controllers *c);

/* ---- for tests and tools ------------------------------------------------ */

/* Runs one due work item synchronously (without the loop). Returns 1 when
 * one ran, 0 when nothing is due. */
int sw_controllers_step(sw_controllers *c);
/* Runs due work until none is left or max_steps (0: 100000) ran; returns
 * how many ran. Delayed work (minReadySeconds, progress deadlines,
 * back-off) is due only when the clock reaches it. */
size_t sw_controllers_run_until_idle(sw_controllers *c, size_t max_steps);
/* Queues every object again, as the periodic resync does. */
void sw_controllers_resync(sw_controllers *c);
/* Replaces the wall clock by a fake one starting at t (seconds); then
 * sw_controllers_advance moves it (t == 0: back to the wall clock).
 * Timestamps the controllers write (conditions) and read (pod readiness,
 * deadlines) use this clock. */
void sw_controllers_set_time(sw_controllers *c, time_t t);
void sw_controllers_advance(sw_controllers *c, int64_t seconds);
time_t sw_controllers_now(const sw_controllers *c);
/* Work items queued (due or delayed), and syncs that failed so far. */
size_t sw_controllers_pending(const sw_controllers *c);
uint64_t sw_controllers_errors(const sw_controllers *c);

#endif
