/* SPDX-License-Identifier: Apache-2.0 */
/* Rule priorities: names as upstream spells them, most severe first (the numbers are syslog levels too). */
#include <strings.h>

#include "common/macro.h"
#include "engine.h"

static const char *const prio_names[_PRIO_MAX] = {
	[PRIO_EMERGENCY] = "Emergency",
	[PRIO_ALERT] = "Alert",
	[PRIO_CRITICAL] = "Critical",
	[PRIO_ERROR] = "Error",
	[PRIO_WARNING] = "Warning",
	[PRIO_NOTICE] = "Notice",
	[PRIO_INFORMATIONAL] = "Informational",
	[PRIO_DEBUG] = "Debug",
};

int prio_from_string(const char *s)
{
	if (!s)
		return _PRIO_INVALID;
	for (int i = 0; i < _PRIO_MAX; i++)
		if (strcasecmp(s, prio_names[i]) == 0)
			return i;
	/* "Info" and "Informational" have always been used interchangeably */
	if (strcasecmp(s, "info") == 0)
		return PRIO_INFORMATIONAL;
	return _PRIO_INVALID;
}

const char *prio_to_string(enum prio p)
{
	if ((int)p < 0 || p >= _PRIO_MAX)
		return NULL;
	return prio_names[p];
}
