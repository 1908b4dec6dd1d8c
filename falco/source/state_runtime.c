/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container metadata from the runtimes, on a worker thread so events never wait for a socket: docker's and
 * podman's HTTP API (GET /containers/<id>/json over their unix sockets) and cri-o's inspect endpoint
 * (GET /containers/<id> on crio.sock). containerd speaks only gRPC on its socket, so it is not asked at all:
 * the OCI bundle its runtime v2 keeps for each running task (<state dir>/io.containerd.runtime.v2.task/<ns>/<id>/
 * config.json) carries the CRI annotations, read by state_containerd.c. Whatever a runtime cannot tell (an
 * unreachable socket, no bundle, a malformed one) leaves the container with its id and cgroup-derived type.
 * systemd-nspawn and lxc containers are named after their id.
 *
 * Requests and answers travel through two bounded rings under one mutex; an eventfd tells the engine thread
 * that answers are waiting. A full request ring drops the request (the container stays without metadata).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/macro.h"
#include "common/strbuf.h"
#include "state_internal.h"

#define RT_RING	      256
#define RT_MAX_REPLY  (1u << 20)
#define RT_TIMEOUT_MS 2000

struct rt_req {
	uint8_t type;
	char id[ST_CT_ID_MAX + 1];
};

struct st_runtime {
	pthread_t th;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct rt_req req[RT_RING];
	uint32_t req_head, req_n;
	struct st_rt_answer ans[RT_RING];
	uint32_t ans_head, ans_n;
	int efd;
	char host_root[256];
};

/* ---- HTTP over a unix socket ---- */

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = RT_TIMEOUT_MS / 1000,
			     .tv_usec = (RT_TIMEOUT_MS % 1000) * 1000};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Dechunks a chunked body in place; returns the new length or -EBADMSG. */
static ssize_t dechunk(char *b, size_t n)
{
	size_t in = 0, out = 0;
	for (;;) {
		char *end;
		unsigned long len = strtoul(b + in, &end, 16);
		char *crlf = strstr(b + in, "\r\n");
		if (!crlf || end == b + in)
			return -EBADMSG;
		in = (size_t)(crlf - b) + 2;
		if (len == 0)
			break;
		if (in + len > n)
			return -EBADMSG;
		memmove(b + out, b + in, len);
		out += len;
		in += len + 2;
		if (in > n)
			return -EBADMSG;
	}
	b[out] = '\0';
	return (ssize_t)out;
}

/* GET path from the socket; returns the parsed JSON body of a 200 answer, or NULL. */
static cJSON *http_get_json(const char *sock, const char *path)
{
	char req[512];
	int fd = unix_connect(sock);
	cJSON *j = NULL;

	if (fd < 0)
		return NULL;
	int rn = snprintf(req, sizeof(req),
			  "GET %s HTTP/1.0\r\nHost: localhost\r\nAccept: application/json\r\n\r\n",
			  path);
	if (rn < 0 || (size_t)rn >= sizeof(req) || write(fd, req, (size_t)rn) != rn) {
		close(fd);
		return NULL;
	}
	char *buf = malloc(RT_MAX_REPLY + 1);
	size_t n = 0;
	if (!buf) {
		close(fd);
		return NULL;
	}
	while (n < RT_MAX_REPLY) {
		ssize_t k = read(fd, buf + n, RT_MAX_REPLY - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	buf[n] = '\0';
	char *body = strstr(buf, "\r\n\r\n");
	if (n >= 12 && startswith(buf, "HTTP/1.") && strncmp(buf + 9, "200", 3) == 0 && body) {
		*body = '\0';
		body += 4;
		size_t blen = n - (size_t)(body - buf);
		if (strcasestr(buf, "transfer-encoding: chunked")) {
			ssize_t d = dechunk(body, blen);
			blen = d < 0 ? 0 : (size_t)d;
		}
		if (blen)
			j = cJSON_ParseWithLength(body, blen);
	}
	free(buf);
	return j;
}

bool st_rt_mounts_add(struct strbuf *m, const char *src, const char *dst, const char *mode, bool rw,
		      const char *prop)
{
	char one[2048];
	int k = snprintf(one, sizeof(one), "%s%s:%s:%s:%s:%s", m->len ? "," : "", src ? src : "",
			 dst ? dst : "", mode ? mode : "", rw ? "true" : "false", prop ? prop : "");

	if (k < 0 || (size_t)k >= sizeof(one) || m->len + (size_t)k > ST_RT_MAX_MOUNTS)
		return false;
	return strbuf_append(m, one, (size_t)k) == 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* RFC 3339 "2024-05-01T10:00:00.123456789Z" to epoch ns (0 when unparsable). */
static uint64_t rfc3339_ns(const char *s)
{
	struct tm tm = {0};
	unsigned long ns = 0;
	const char *p;

	if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return 0;
	if (*p == '.') {
		unsigned long mult = 100000000;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			ns += (unsigned long)(*p - '0') * mult;
			mult /= 10;
		}
	}
	time_t t = timegm(&tm);
	return t <= 0 ? 0 : (uint64_t)t * 1000000000u + ns;
}

static void labels_k8s(const cJSON *labels, struct st_rt_answer *a)
{
	if (!cJSON_IsObject(labels))
		return;
	a->k8s_ns = dup_opt(jstr(labels, "io.kubernetes.pod.namespace"));
	a->k8s_pod = dup_opt(jstr(labels, "io.kubernetes.pod.name"));
	a->k8s_pod_uid = dup_opt(jstr(labels, "io.kubernetes.pod.uid"));
}

/* docker and podman's compatible API */
static void parse_docker(const cJSON *j, struct st_rt_answer *a)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "Config");
	const cJSON *hc = cJSON_GetObjectItemCaseSensitive(j, "HostConfig");
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(j, "State");
	const cJSON *mounts = cJSON_GetObjectItemCaseSensitive(j, "Mounts");
	const char *name = jstr(j, "Name");

	a->ok = true;
	a->name = dup_opt(name && name[0] == '/' ? name + 1 : name);
	a->image = dup_opt(jstr(cfg, "Image"));
	a->image_id = dup_opt(jstr(j, "Image"));
	a->start_ts = rfc3339_ns(jstr(state, "StartedAt"));
	const cJSON *priv = cJSON_GetObjectItemCaseSensitive(hc, "Privileged");
	if (cJSON_IsBool(priv)) {
		a->privileged = cJSON_IsTrue(priv);
		a->privileged_known = true;
	}
	labels_k8s(cJSON_GetObjectItemCaseSensitive(cfg, "Labels"), a);
	if (!cJSON_IsArray(mounts))
		return;
	_cleanup_strbuf_ struct strbuf m;
	const cJSON *it;
	strbuf_init(&m, ST_RT_MAX_MOUNTS);
	cJSON_ArrayForEach(it, mounts)
	{
		if (!st_rt_mounts_add(&m, jstr(it, "Source"), jstr(it, "Destination"),
				      jstr(it, "Mode"),
				      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "RW")),
				      jstr(it, "Propagation")))
			break;
	}
	if (m.len)
		a->mounts = strbuf_steal(&m);
}

static void parse_crio(const cJSON *j, struct st_rt_answer *a)
{
	const cJSON *ct = cJSON_GetObjectItemCaseSensitive(j, "created_time");
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(j, "annotations");

	a->ok = true;
	a->name = dup_opt(jstr(j, "name"));
	a->image = dup_opt(jstr(j, "image"));
	a->image_id = dup_opt(jstr(j, "image_ref"));
	if (cJSON_IsNumber(ct) && ct->valuedouble > 0)
		a->start_ts = (uint64_t)ct->valuedouble;
	labels_k8s(cJSON_GetObjectItemCaseSensitive(j, "labels"), a);
	const char *priv = jstr(ann, "io.kubernetes.cri-o.PrivilegedRuntime");
	if (priv) {
		a->privileged = streq(priv, "true");
		a->privileged_known = true;
	}
}

static void query(struct st_runtime *rt, const struct rt_req *q, struct st_rt_answer *a)
{
	char sock[512], path[160];
	cJSON *j = NULL;

	memset(a, 0, sizeof(*a));
	memcpy(a->id, q->id, sizeof(a->id));
	switch (q->type) {
	case ST_CT_DOCKER:
	case ST_CT_PODMAN: {
		static const char *const docker_socks[] = {"/var/run/docker.sock",
							   "/run/docker.sock"};
		static const char *const podman_socks[] = {"/run/podman/podman.sock",
							   "/var/run/podman/podman.sock"};
		const char *const *socks = q->type == ST_CT_DOCKER ? docker_socks : podman_socks;
		snprintf(path, sizeof(path), "/containers/%s/json", q->id);
		for (int i = 0; i < 2 && !j; i++) {
			snprintf(sock, sizeof(sock), "%s%s", rt->host_root, socks[i]);
			j = http_get_json(sock, path);
		}
		if (j)
			parse_docker(j, a);
		break;
	}
	case ST_CT_CRIO:
		snprintf(path, sizeof(path), "/containers/%s", q->id);
		snprintf(sock, sizeof(sock), "%s/var/run/crio/crio.sock", rt->host_root);
		j = http_get_json(sock, path);
		if (j)
			parse_crio(j, a);
		break;
	case ST_CT_NSPAWN:
	case ST_CT_LXC:
		a->ok = true;
		a->name = strdup(q->id);
		break;
	case ST_CT_CONTAINERD: {
		/* k3s runs its embedded containerd with its own state dir */
		static const char *const state_dirs[] = {"/run/containerd", "/run/k3s/containerd"};
		char dir[512];
		int r = -ENOENT;
		for (size_t i = 0; i < ARRAY_SIZE(state_dirs) && r == -ENOENT; i++) {
			snprintf(dir, sizeof(dir), "%s%s", rt->host_root, state_dirs[i]);
			r = st_containerd_lookup(dir, q->id, a, NULL, 0);
		}
		break;
	}
	default:
		break;
	}
	cJSON_Delete(j);
}

static void *worker(void *arg)
{
	struct st_runtime *rt = arg;

	pthread_mutex_lock(&rt->mu);
	for (;;) {
		while (!rt->stop && rt->req_n == 0)
			pthread_cond_wait(&rt->cv, &rt->mu);
		if (rt->stop)
			break;
		struct rt_req q = rt->req[rt->req_head];
		rt->req_head = (rt->req_head + 1) % RT_RING;
		rt->req_n--;
		pthread_mutex_unlock(&rt->mu);

		struct st_rt_answer a;
		query(rt, &q, &a);

		pthread_mutex_lock(&rt->mu);
		if (rt->ans_n < RT_RING) {
			rt->ans[(rt->ans_head + rt->ans_n) % RT_RING] = a;
			rt->ans_n++;
			uint64_t one = 1;
			(void)!write(rt->efd, &one, sizeof(one));
		} else {
			st_runtime_answer_done(&a);
		}
	}
	pthread_mutex_unlock(&rt->mu);
	return NULL;
}

struct st_runtime *st_runtime_new(const char *host_root)
{
	struct st_runtime *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return NULL;
	snprintf(rt->host_root, sizeof(rt->host_root), "%s", host_root ? host_root : "");
	pthread_mutex_init(&rt->mu, NULL);
	pthread_cond_init(&rt->cv, NULL);
	rt->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rt->efd < 0 || pthread_create(&rt->th, NULL, worker, rt) != 0)
		return st_runtime_free(rt);
	rt->started = true;
	return rt;
}

struct st_runtime *st_runtime_free(struct st_runtime *rt)
{
	if (!rt)
		return NULL;
	if (rt->started) {
		pthread_mutex_lock(&rt->mu);
		rt->stop = true;
		pthread_cond_signal(&rt->cv);
		pthread_mutex_unlock(&rt->mu);
		pthread_join(rt->th, NULL);
	}
	while (rt->ans_n) {
		st_runtime_answer_done(&rt->ans[rt->ans_head]);
		rt->ans_head = (rt->ans_head + 1) % RT_RING;
		rt->ans_n--;
	}
	if (rt->efd >= 0)
		close(rt->efd);
	pthread_cond_destroy(&rt->cv);
	pthread_mutex_destroy(&rt->mu);
	free(rt);
	return NULL;
}

bool st_runtime_ask(struct st_runtime *rt, enum st_ct_type type, const char *id)
{
	bool ok = false;

	pthread_mutex_lock(&rt->mu);
	if (rt->req_n < RT_RING) {
		struct rt_req *q = &rt->req[(rt->req_head + rt->req_n) % RT_RING];
		q->type = (uint8_t)type;
		snprintf(q->id, sizeof(q->id), "%s", id);
		rt->req_n++;
		ok = true;
		pthread_cond_signal(&rt->cv);
	}
	pthread_mutex_unlock(&rt->mu);
	return ok;
}

int st_runtime_fd_of(const struct st_runtime *rt)
{
	return rt->efd;
}

int st_runtime_take(struct st_runtime *rt, struct st_rt_answer *ret)
{
	int r = 0;
	uint64_t v;

	pthread_mutex_lock(&rt->mu);
	if (rt->ans_n) {
		*ret = rt->ans[rt->ans_head];
		rt->ans_head = (rt->ans_head + 1) % RT_RING;
		rt->ans_n--;
		r = 1;
	} else {
		(void)!read(rt->efd, &v, sizeof(v));
	}
	pthread_mutex_unlock(&rt->mu);
	return r;
}

void st_runtime_answer_done(struct st_rt_answer *a)
{
	free(a->name);
	free(a->image);
	free(a->image_id);
	free(a->mounts);
	free(a->k8s_ns);
	free(a->k8s_pod);
	free(a->k8s_pod_uid);
	memset(a, 0, sizeof(*a));
}
