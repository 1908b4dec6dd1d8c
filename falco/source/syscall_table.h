/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names and numbers of the syscall source: Linux x86_64 syscall ids ↔ names, event-type codes ↔ evt.type names
 * (every x86_64 syscall name is a valid evt.type, plus upstream's event names such as "procexit"), and the mapping
 * from event types to the driver's "interesting syscalls" array. Pure tables: nothing here allocates or logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver/falco_events.h"

/* Words of a bitmap over every event-type code (EVT_TYPE_MAX bits). */
#define EVT_TYPE_WORDS ((EVT_TYPE_MAX + 63) / 64)

/* Name of x86_64 syscall nr ("openat"), or NULL when nr is not a syscall. */
const char *evt_syscall_name(uint32_t nr);
/* x86_64 syscall id of name, or -ENOENT. */
int evt_syscall_nr(const char *name);

/*
 * evt.type name of an event-type code: the dedicated event's name ("openat" for both EVT_OPENAT_E and
 * EVT_OPENAT_X, "procexit"), or for EVT_GENERIC_BASE + nr the syscall's name. NULL for codes that name nothing.
 */
const char *evt_type_name(uint16_t code);

/*
 * Codes an evt.type name stands for, as src_def.evttype_codes wants: the dedicated events named so (entry and
 * exit), else the generic code of the syscall of that name. Returns the number of codes (up to 4, written up to
 * max), 0 for a name that is valid but never produced here (upstream meta events, 32-bit-only syscalls), or -ENOENT
 * for a name that is no event type at all.
 */
int evt_type_codes(const char *name, uint16_t *codes, size_t max);

/*
 * The syscall behind an event-type code: returns 1 with *ret_nr and *ret_how (EVT_SC_EXIT, or EVT_SC_ENTER for an
 * entry event), 0 for events that come from no syscall (procexit: always on), -EINVAL for an unknown code.
 */
int evt_type_syscall(uint16_t code, uint32_t *ret_nr, uint8_t *ret_how);

/*
 * Adds to bits (EVT_TYPE_WORDS words) the event types the state tables need whatever the rules say: process
 * lifecycle (clone family, exec, exit, credentials, cwd), and the syscalls that create or destroy descriptors.
 */
void evt_type_base_set(uint64_t *bits, size_t nwords);

/*
 * Fills sc[EVT_SYSCALL_MAX] (the driver's interesting-syscalls array) from a bitmap of event-type codes. Entry
 * events are included only when with_enter is true. Returns how many syscalls are interesting.
 */
size_t evt_type_interesting(const uint64_t *bits, size_t nwords, bool with_enter, uint8_t *sc);

static inline bool evt_bit_test(const uint64_t *bits, size_t nwords, uint32_t code)
{
	return code / 64 < nwords && (bits[code / 64] >> (code % 64)) & 1;
}

static inline void evt_bit_set(uint64_t *bits, size_t nwords, uint32_t code)
{
	if (code / 64 < nwords)
		bits[code / 64] |= UINT64_C(1) << (code % 64);
}
