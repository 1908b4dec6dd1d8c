/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linux capability names as the kernel numbers them (linux/capability.h), shared by falco (thread.cap_* fields)
 * and falcoctl (units' CapabilityBoundingSet=, preflight).
 */
#pragma once

/* Number of capabilities named here: 0 .. CAP_COUNT - 1. */
#define CAP_COUNT 41

/* "CAP_BPF" (any case) -> 39, or -EINVAL. */
int cap_from_name(const char *name);
/* 39 -> "CAP_BPF", or NULL outside 0 .. CAP_COUNT - 1. */
const char *cap_name(int cap);
