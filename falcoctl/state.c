/* SPDX-License-Identifier: Apache-2.0 */
/* The state file: what install did, so re-runs converge and reset is precise. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/fileio.h"
#include "state.h"

#define STATE_MAX_BYTES (8u << 20)

static void now_iso(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static cJSON *new_root(void)
{
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	if (!cJSON_AddNumberToObject(root, "version", FC_STATE_VERSION) ||
	    !cJSON_AddStringToObject(root, "falcoctl", PROJECT_VERSION) ||
	    !cJSON_AddObjectToObject(root, "phases")) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int fc_state_load(const char *path, struct fc_state **ret, char *errbuf, size_t errlen)
{
	_cleanup_free_ char *text = NULL;
	struct fc_state *st;
	size_t len;
	int r;

	st = calloc(1, sizeof(*st));
	if (!st)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	if (snprintf(st->path, sizeof(st->path), "%s", path) >= (int)sizeof(st->path)) {
		free(st);
		return errf(errbuf, errlen, -ENAMETOOLONG, "state path too long");
	}
	r = read_file(path, STATE_MAX_BYTES, &text, &len, errbuf, errlen);
	if (r == -ENOENT) {
		st->root = new_root();
	} else if (r < 0) {
		free(st);
		return r;
	} else {
		st->root = cJSON_ParseWithLength(text, len);
		if (!st->root || !cJSON_IsObject(st->root) ||
		    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(st->root, "phases"))) {
			cJSON_Delete(st->root);
			free(st);
			return errf(
				errbuf, errlen, -EINVAL,
				"state file '%s' is corrupt (not the JSON falcoctl writes); move it away to start "
				"over",
				path);
		}
		cJSON *v = cJSON_GetObjectItemCaseSensitive(st->root, "version");
		if (!cJSON_IsNumber(v) || v->valueint > FC_STATE_VERSION) {
			cJSON_Delete(st->root);
			free(st);
			return errf(
				errbuf, errlen, -EINVAL,
				"state file '%s' has an unsupported version (written by a newer falcoctl?)",
				path);
		}
	}
	if (!st->root) {
		free(st);
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	}
	*ret = st;
	return 0;
}

int fc_state_save(struct fc_state *st, const struct fc_fs_ops *fs, char *errbuf, size_t errlen)
{
	char ts[32], dir[PATH_MAX];
	now_iso(ts, sizeof(ts));
	cJSON_DeleteItemFromObjectCaseSensitive(st->root, "updated");
	cJSON_AddStringToObject(st->root, "updated", ts);
	cJSON_DeleteItemFromObjectCaseSensitive(st->root, "falcoctl");
	cJSON_AddStringToObject(st->root, "falcoctl", PROJECT_VERSION);

	snprintf(dir, sizeof(dir), "%s", st->path);
	dirname(dir);
	/* create the missing components, top down */
	for (char *p = dir + 1; !is_dir(dir); p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (!is_dir(dir)) {
			int r = fs->mkdir(fs->data, dir, 0755, errbuf, errlen);
			if (r < 0)
				return r;
		}
		*p = saved;
		if (!saved)
			break;
	}
	_cleanup_free_ char *text = cJSON_Print(st->root);
	if (!text)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	size_t len = strlen(text);
	text[len] =
		'\n'; /* cJSON_Print's buffer has room for the NUL we overwrite; write len+1 bytes */
	int r = fs->write_file(fs->data, st->path, text, len + 1, 0600, (uid_t)-1, (gid_t)-1,
			       errbuf, errlen);
	text[len] = '\0';
	return r;
}

struct fc_state *fc_state_free(struct fc_state *st)
{
	if (!st)
		return NULL;
	cJSON_Delete(st->root);
	free(st);
	return NULL;
}

static cJSON *phases(const struct fc_state *st)
{
	return cJSON_GetObjectItemCaseSensitive(st->root, "phases");
}

bool fc_state_empty(const struct fc_state *st)
{
	cJSON *ph;
	if (!st)
		return true;
	/* "falcoctl" holds only falcoctl's own bookkeeping (the state directory it created) */
	cJSON_ArrayForEach(ph, phases(st)) if (!streq(ph->string, "falcoctl")) return false;
	return true;
}

cJSON *fc_state_phase(struct fc_state *st, const char *phase, bool create)
{
	cJSON *p = cJSON_GetObjectItemCaseSensitive(phases(st), phase);
	if (!p && create)
		p = cJSON_AddObjectToObject(phases(st), phase);
	return p;
}

int fc_state_mark_completed(struct fc_state *st, const char *phase, bool done)
{
	cJSON *p = fc_state_phase(st, phase, done);
	char ts[32];
	if (!p)
		return done ? -ENOMEM : 0;
	/* keep the first completion time: a converged re-run leaves the state file as it was */
	if (done && cJSON_GetObjectItemCaseSensitive(p, "completed"))
		return 0;
	if (!done && !cJSON_GetObjectItemCaseSensitive(p, "completed"))
		return 0;
	cJSON_DeleteItemFromObjectCaseSensitive(p, "completed");
	if (!done)
		return 1;
	now_iso(ts, sizeof(ts));
	return cJSON_AddStringToObject(p, "completed", ts) ? 1 : -ENOMEM;
}

bool fc_state_completed(const struct fc_state *st, const char *phase)
{
	cJSON *p = cJSON_GetObjectItemCaseSensitive(phases(st), phase);
	return p && cJSON_GetObjectItemCaseSensitive(p, "completed");
}

static cJSON *array(struct fc_state *st, const char *phase, const char *what, bool create)
{
	cJSON *p = fc_state_phase(st, phase, create);
	if (!p)
		return NULL;
	cJSON *a = cJSON_GetObjectItemCaseSensitive(p, what);
	if (!a && create)
		a = cJSON_AddArrayToObject(p, what);
	return a;
}

cJSON *fc_state_array(const struct fc_state *st, const char *phase, const char *what)
{
	return array((struct fc_state *)st, phase, what, false);
}

/* Finds an entry of arrays `what` whose "path" (or string value) is path, in any phase. */
static cJSON *find_entry(const struct fc_state *st, const char *what, const char *path,
			 cJSON **ret_array, const char **ret_phase)
{
	cJSON *ph;
	cJSON_ArrayForEach(ph, phases(st))
	{
		cJSON *a = cJSON_GetObjectItemCaseSensitive(ph, what), *e;
		cJSON_ArrayForEach(e, a)
		{
			const char *p =
				cJSON_IsString(e)
					? e->valuestring
					: cJSON_GetStringValue(
						  cJSON_GetObjectItemCaseSensitive(e, "path"));
			if (p && streq(p, path)) {
				if (ret_array)
					*ret_array = a;
				if (ret_phase)
					*ret_phase = ph->string;
				return e;
			}
		}
	}
	return NULL;
}

static void del_entry(struct fc_state *st, const char *what, const char *path)
{
	cJSON *a, *e;
	while ((e = find_entry(st, what, path, &a, NULL)))
		cJSON_Delete(cJSON_DetachItemViaPointer(a, e));
}

int fc_state_add_file(struct fc_state *st, const char *phase, const char *path, const char *sha256,
		      mode_t mode)
{
	char m[8];
	del_entry(st, "files", path);
	cJSON *a = array(st, phase, "files", true), *e = cJSON_CreateObject();
	snprintf(m, sizeof(m), "%04o", (unsigned)(mode & 07777));
	if (!a || !e || !cJSON_AddStringToObject(e, "path", path) ||
	    !cJSON_AddStringToObject(e, "sha256", sha256) ||
	    !cJSON_AddStringToObject(e, "mode", m)) {
		cJSON_Delete(e);
		return -ENOMEM;
	}
	cJSON_AddItemToArray(a, e);
	return 0;
}

const char *fc_state_file_sha(const struct fc_state *st, const char *path, const char **ret_phase)
{
	cJSON *e = find_entry(st, "files", path, NULL, ret_phase);
	return e ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "sha256")) : NULL;
}

void fc_state_del_file(struct fc_state *st, const char *path)
{
	del_entry(st, "files", path);
}

int fc_state_add_dir(struct fc_state *st, const char *phase, const char *path)
{
	if (find_entry(st, "dirs", path, NULL, NULL))
		return 0;
	cJSON *a = array(st, phase, "dirs", true), *e = cJSON_CreateString(path);
	if (!a || !e) {
		cJSON_Delete(e);
		return -ENOMEM;
	}
	cJSON_AddItemToArray(a, e);
	return 0;
}

bool fc_state_has_dir(const struct fc_state *st, const char *path)
{
	return find_entry(st, "dirs", path, NULL, NULL) != NULL;
}

void fc_state_del_dir(struct fc_state *st, const char *path)
{
	del_entry(st, "dirs", path);
}

int fc_state_add_link(struct fc_state *st, const char *phase, const char *path, const char *target)
{
	del_entry(st, "links", path);
	cJSON *a = array(st, phase, "links", true), *e = cJSON_CreateObject();
	if (!a || !e || !cJSON_AddStringToObject(e, "path", path) ||
	    !cJSON_AddStringToObject(e, "target", target)) {
		cJSON_Delete(e);
		return -ENOMEM;
	}
	cJSON_AddItemToArray(a, e);
	return 0;
}

const char *fc_state_link_target(const struct fc_state *st, const char *path)
{
	cJSON *e = find_entry(st, "links", path, NULL, NULL);
	return e ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "target")) : NULL;
}

void fc_state_del_link(struct fc_state *st, const char *path)
{
	del_entry(st, "links", path);
}

int fc_state_set(struct fc_state *st, const char *phase, const char *key, const char *value)
{
	cJSON *p = fc_state_phase(st, phase, value != NULL);
	if (!p)
		return value ? -ENOMEM : 0;
	cJSON *vals = cJSON_GetObjectItemCaseSensitive(p, "values");
	if (!vals) {
		if (!value)
			return 0;
		if (!(vals = cJSON_AddObjectToObject(p, "values")))
			return -ENOMEM;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(vals, key);
	if (value && !cJSON_AddStringToObject(vals, key, value))
		return -ENOMEM;
	return 0;
}

const char *fc_state_get(const struct fc_state *st, const char *phase, const char *key)
{
	if (!st)
		return NULL;
	cJSON *p = cJSON_GetObjectItemCaseSensitive(phases(st), phase);
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(p, "values"), key));
}

void fc_state_del_phase(struct fc_state *st, const char *phase)
{
	cJSON_DeleteItemFromObjectCaseSensitive(phases(st), phase);
}
