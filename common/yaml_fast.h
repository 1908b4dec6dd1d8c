/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to common/yaml*.c (and their tests): the two parsers behind yaml_parse(). */
#pragma once

#include <stddef.h>

#include "yaml.h"

struct yaml_limits;
struct yaml_stream;

/*
 * The fast path (yaml_fast.c): 0 with *ret, -ENOMEM, or -EAGAIN when the input is not in the subset it handles
 * (or has an error, or hits a limit): then the libyaml path must parse it. lim must have every limit set.
 */
int yaml_fast_parse(const char *buf, size_t len, const struct yaml_limits *lim,
		    struct yaml_stream **ret);
/* The libyaml path: exactly yaml_parse() without the fast path. */
int yaml_parse_libyaml(const char *buf, size_t len, const struct yaml_limits *lim,
		       struct yaml_stream **ret, char *errbuf, size_t errlen);
