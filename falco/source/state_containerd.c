/* SPDX-License-Identifier: Apache-2.0 */
/*
 * containerd container metadata without gRPC: containerd's runtime v2 keeps every running task's OCI bundle at
 * <state dir>/io.containerd.runtime.v2.task/<namespace>/<id>/, and its config.json (the OCI runtime spec)
 * carries what the CRI plugin knows about the container in its annotations (io.kubernetes.cri.*: container
 * name, image, pod name/namespace/uid), nerdctl's name (nerdctl/name), and the mounts. Runs on the runtime
 * worker (state_runtime.c); nothing here logs.
 *
 * The state dir belongs to root, but the bundle holds what a container's creator wrote: every name and size
 * is checked before it is trusted, and symlinks are never followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/macro.h"
#include "common/strbuf.h"
#include "state_internal.h"

#define TASK_DIR "io.containerd.runtime.v2.task"

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A namespace or container id as a single directory entry: no '/', no "." or "..", no hidden names. */
static bool valid_component(const char *s)
{
	size_t n = strnlen(s, NAME_MAX + 1);
	return n > 0 && n <= NAME_MAX && s[0] != '.' && !memchr(s, '/', n);
}

/*
 * Reads <nsfd>/<id>/config.json into a NUL-terminated buffer. -ENOENT when this namespace has no such task;
 * -ELOOP for a symlink (the bundle directory or the file), -EINVAL for anything but a regular file, -EFBIG
 * above ST_CTD_MAX_CONFIG (also when it grows past that while being read).
 */
static int read_config(int nsfd, const char *id, char **ret, size_t *ret_len)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat sb;
	size_t n = 0;

	dfd = openat(nsfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOTDIR ? -ELOOP : -errno;
	/* O_NONBLOCK: a FIFO planted in place of the file must not hang the worker before fstat says so */
	fd = openat(dfd, "config.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0)
		return -errno;
	if (!S_ISREG(sb.st_mode))
		return -EINVAL;
	if (sb.st_size > ST_CTD_MAX_CONFIG)
		return -EFBIG;
	/* one byte more than the limit: a file that grew after fstat is caught by the read itself */
	buf = malloc(ST_CTD_MAX_CONFIG + 2);
	if (!buf)
		return -ENOMEM;
	while (n < ST_CTD_MAX_CONFIG + 1) {
		ssize_t k = read(fd, buf + n, ST_CTD_MAX_CONFIG + 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n > ST_CTD_MAX_CONFIG)
		return -EFBIG;
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = n;
	return 0;
}

/* OCI mount options → the rw flag and propagation of upstream's "source:dest:mode:rw:propagation" entries */
static bool mounts_add(struct strbuf *m, const cJSON *mount)
{
	static const char *const props[] = {"rprivate", "private", "rshared",	  "shared",
					    "rslave",	"slave",   "runbindable", "unbindable"};
	const cJSON *opts = cJSON_GetObjectItemCaseSensitive(mount, "options");
	const char *prop = NULL;
	const cJSON *o;
	bool rw = true;

	if (!cJSON_IsArray(opts))
		opts = NULL;
	cJSON_ArrayForEach(o, opts)
	{
		if (!cJSON_IsString(o))
			continue;
		if (streq(o->valuestring, "ro"))
			rw = false;
		else if (streq(o->valuestring, "rw"))
			rw = true;
		for (size_t i = 0; i < ARRAY_SIZE(props); i++)
			if (streq(o->valuestring, props[i]))
				prop = props[i];
	}
	/* the OCI spec has nothing like docker's Mode (SELinux relabel z/Z): it stays empty */
	return st_rt_mounts_add(m, jstr(mount, "source"), jstr(mount, "destination"), "", rw, prop);
}

/* The answer from a parsed config.json; -EBADMSG when it is not an OCI spec object. */
static int from_spec(const cJSON *spec, const char *id, struct st_rt_answer *a)
{
	const cJSON *ann, *mounts, *it;

	if (!cJSON_IsObject(spec))
		return -EBADMSG;
	ann = cJSON_GetObjectItemCaseSensitive(spec, "annotations");
	if (!cJSON_IsObject(ann))
		ann = NULL;
	/*
	 * CRI puts the container name and image only on containers; a pod's sandbox (pause) has neither and is
	 * named after its id below, as upstream names containers the runtime gave no name.
	 */
	const char *name = jstr(ann, "io.kubernetes.cri.container-name");
	if (!name)
		name = jstr(ann, "nerdctl/name");
	a->name = strdup(name ? name : id);
	a->image = dup_opt(jstr(ann, "io.kubernetes.cri.image-name"));
	a->k8s_pod = dup_opt(jstr(ann, "io.kubernetes.cri.sandbox-name"));
	a->k8s_ns = dup_opt(jstr(ann, "io.kubernetes.cri.sandbox-namespace"));
	a->k8s_pod_uid = dup_opt(jstr(ann, "io.kubernetes.cri.sandbox-uid"));
	if (!a->name)
		return -ENOMEM;

	mounts = cJSON_GetObjectItemCaseSensitive(spec, "mounts");
	if (cJSON_IsArray(mounts)) {
		_cleanup_strbuf_ struct strbuf m;
		strbuf_init(&m, ST_RT_MAX_MOUNTS);
		cJSON_ArrayForEach(it, mounts)
		{
			if (cJSON_IsObject(it) && !mounts_add(&m, it))
				break;
		}
		if (m.len)
			a->mounts = strbuf_steal(&m);
	}
	a->ok = true;
	return 0;
}

int st_containerd_lookup(const char *state_dir, const char *id, struct st_rt_answer *ret,
			 char *errbuf, size_t errlen)
{
	_cleanup_(closedirp) DIR *tasks = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	unsigned seen = 0;
	struct dirent *de;
	int r = -ENOENT;

	if (!valid_component(id))
		return errf(errbuf, errlen, -EINVAL, "invalid container id '%s'", id);
	int tfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		return errf(errbuf, errlen, -errno, "%s: %s", state_dir, strerror(errno));
	int dfd = openat(tfd, TASK_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int e = errno;
	close(tfd);
	if (dfd < 0)
		return errf(errbuf, errlen, -e, "%s/" TASK_DIR ": %s", state_dir, strerror(e));
	tasks = fdopendir(dfd);
	if (!tasks) {
		e = errno;
		close(dfd);
		return errf(errbuf, errlen, -e, "%s/" TASK_DIR ": %s", state_dir, strerror(e));
	}

	/* 1. the first namespace holding a bundle for the id decides (ids are unique within one namespace) */
	while (r == -ENOENT && (de = readdir(tasks))) {
		if (!valid_component(de->d_name))
			continue;
		if (++seen > ST_CTD_MAX_NAMESPACES)
			return errf(errbuf, errlen, -ENOENT,
				    "no bundle for %s in the first %u namespaces of %s/" TASK_DIR,
				    id, ST_CTD_MAX_NAMESPACES, state_dir);
		_cleanup_close_ int nsfd = openat(dirfd(tasks), de->d_name,
						  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nsfd < 0)
			continue; /* a file or a symlink: not a namespace */
		r = read_config(nsfd, id, &text, &len);
		if (r < 0 && r != -ENOENT)
			return errf(errbuf, errlen, r, "%s/" TASK_DIR "/%s/%s/config.json: %s",
				    state_dir, de->d_name, id,
				    r == -EFBIG ? "too large" : strerror(-r));
	}
	if (r < 0)
		return errf(errbuf, errlen, r, "no bundle for %s under %s/" TASK_DIR, id,
			    state_dir);

	/* 2. parse and map; the answer is only handed over complete */
	cJSON *spec = cJSON_ParseWithLength(text, len);
	struct st_rt_answer a = {0};
	r = from_spec(spec, id, &a);
	cJSON_Delete(spec);
	if (r < 0) {
		st_runtime_answer_done(&a);
		return errf(errbuf, errlen, r, "%s: config.json of %s is not an OCI runtime spec",
			    state_dir, id);
	}
	memcpy(a.id, ret->id, sizeof(a.id));
	*ret = a;
	return 0;
}
