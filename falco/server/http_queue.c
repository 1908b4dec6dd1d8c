/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded single-producer/single-consumer ring (webhook thread -> engine thread) with an eventfd wakeup.
 * head is written only by the consumer, tail only by the producer; the release/acquire pair on tail publishes
 * the slot contents, the pair on head hands the slot back. The byte total is shared: the producer adds before
 * publishing and the consumer subtracts after taking, so the producer's room check can only be pessimistic.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "http_internal.h"

int http_queue_init(struct http_queue *q, size_t max_items, size_t max_bytes)
{
	size_t cap = 1;

	q->efd = -1;
	if (!max_items || !max_bytes)
		return -EINVAL;
	while (cap < max_items)
		cap <<= 1;
	q->slots = calloc(cap, sizeof(*q->slots));
	if (!q->slots)
		return -ENOMEM;
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		int r = -errno;
		free(q->slots);
		q->slots = NULL;
		return r;
	}
	q->mask = cap - 1;
	q->max_items = max_items;
	q->max_bytes = max_bytes;
	atomic_init(&q->head, 0);
	atomic_init(&q->tail, 0);
	atomic_init(&q->bytes, 0);
	return 0;
}

void http_queue_done(struct http_queue *q)
{
	if (q->efd >= 0)
		close(q->efd);
	free(q->slots);
	q->slots = NULL;
	q->efd = -1;
}

bool http_queue_has_room(struct http_queue *q, size_t bytes)
{
	size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
	size_t used = atomic_load_explicit(&q->bytes, memory_order_relaxed);

	if (tail - head >= q->max_items)
		return false;
	/* an empty queue takes anything, so one large legal payload can't be refused forever */
	return tail == head || used + bytes <= q->max_bytes;
}

int http_queue_push(struct http_queue *q, void *item, size_t bytes)
{
	size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);

	if (!http_queue_has_room(q, bytes))
		return -EAGAIN;
	q->slots[tail & q->mask] = (struct http_queue_slot){.item = item, .bytes = bytes};
	atomic_fetch_add_explicit(&q->bytes, bytes, memory_order_relaxed);
	atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
	(void)eventfd_write(q->efd, 1);
	return 0;
}

void *http_queue_pop(struct http_queue *q)
{
	size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
	struct http_queue_slot s;

	if (head == tail)
		return NULL;
	s = q->slots[head & q->mask];
	atomic_store_explicit(&q->head, head + 1, memory_order_release);
	atomic_fetch_sub_explicit(&q->bytes, s.bytes, memory_order_relaxed);
	return s.item;
}

size_t http_queue_depth(struct http_queue *q)
{
	/* head first: it never passes the tail read after it, so this can't underflow from another thread */
	size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
	size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);

	return tail - head;
}

void http_queue_ack(struct http_queue *q)
{
	eventfd_t v;

	(void)eventfd_read(q->efd, &v);
}
