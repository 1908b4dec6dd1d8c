/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for containerd metadata from OCI bundles (falco/source/state_containerd.c): authored config.json
 * files in a temp dir laid out like containerd's state dir (io.containerd.runtime.v2.task/<ns>/<id>/), for a
 * CRI container, a pod sandbox, a nerdctl container and a plain ctr container, and the hostile cases (malformed
 * JSON, a file over the size limit, symlinks, a FIFO, odd ids). The last tests go through the runtime worker
 * and the state as the daemon does, with HOST_ROOT pointing at the temp dir.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/strbuf.h"
#include "falco/source/state.h"
#include "falco/source/state_internal.h"

#define ID_A  "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define ID_B  "0000000000000000000000000000000000000000000000000000000000000b0b"
#define TASKS "run/containerd/io.containerd.runtime.v2.task"

struct fx {
	char root[PATH_MAX];	   /* stands for HOST_ROOT */
	char state[PATH_MAX + 32]; /* <root>/run/containerd */
};

static void mkdirs(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(buf, 0755);
		*p = '/';
	}
	(void)mkdir(buf, 0755);
}

static void write_all(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Appends s to the path in p (size n). */
static void add(char *p, size_t n, const char *s)
{
	size_t l = strlen(p);
	assert_true(l + strlen(s) < n);
	memcpy(p + l, s, strlen(s) + 1);
}

/* Writes <root>/TASKS/<ns>/<id>/config.json. */
static void bundle(struct fx *f, const char *ns, const char *id, const char *json)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/" TASKS "/%s/%s", f->root, ns, id);
	mkdirs(p);
	add(p, sizeof(p), "/config.json");
	write_all(p, json, strlen(json));
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/test_ctd.XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->state, sizeof(f->state), "%s/run/containerd", f->root);
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/" TASKS, f->root);
	mkdirs(p);
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int r = nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return r;
}

/* The shape containerd's CRI plugin (1.6) gives a kubelet container. */
static const char CRI_CONTAINER[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"args\":[\"nginx\"]},"
	"\"mounts\":["
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\","
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
	"{\"destination\":\"/etc/hosts\",\"type\":\"bind\","
	"\"source\":\"/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/hosts\","
	"\"options\":[\"rbind\",\"rprivate\",\"rw\"]},"
	"{\"destination\":\"/var/run/secrets/kubernetes.io/serviceaccount\",\"type\":\"bind\","
	"\"source\":\"/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/kube-api-access\","
	"\"options\":[\"rbind\",\"rprivate\",\"ro\"]}],"
	"\"annotations\":{"
	"\"io.kubernetes.cri.container-type\":\"container\","
	"\"io.kubernetes.cri.container-name\":\"nginx\","
	"\"io.kubernetes.cri.image-name\":\"registry.example.com:5000/team/nginx:1.25\","
	"\"io.kubernetes.cri.sandbox-id\":\"" ID_B "\","
	"\"io.kubernetes.cri.sandbox-name\":\"web-7d9f\","
	"\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
	"\"io.kubernetes.cri.sandbox-uid\":\"5f0c1d7e-2f7a-4e0b-9d7a-7f1d2c3b4a59\"},"
	"\"linux\":{\"cgroupsPath\":\"kubepods-besteffort-podu1.slice:cri-containerd:" ID_A "\"}}";

static void test_cri_container(void **state)
{
	struct fx *f = *state;
	struct st_rt_answer a = {.id = ID_A};
	char err[256];

	bundle(f, "k8s.io", ID_A, CRI_CONTAINER);
	assert_int_equal(st_containerd_lookup(f->state, ID_A, &a, err, sizeof(err)), 0);
	assert_true(a.ok);
	assert_string_equal(a.id, ID_A);
	assert_string_equal(a.name, "nginx");
	assert_string_equal(a.image, "registry.example.com:5000/team/nginx:1.25");
	assert_string_equal(a.k8s_pod, "web-7d9f");
	assert_string_equal(a.k8s_ns, "shop");
	assert_string_equal(a.k8s_pod_uid, "5f0c1d7e-2f7a-4e0b-9d7a-7f1d2c3b4a59");
	assert_string_equal(
		a.mounts,
		"proc:/proc::true:,"
		"/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/hosts:/etc/hosts::true:rprivate,"
		"/var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/kube-api-access:"
		"/var/run/secrets/kubernetes.io/serviceaccount::false:rprivate");
	/* a bundle tells neither: they stay unknown rather than guessed */
	assert_null(a.image_id);
	assert_false(a.privileged_known);
	assert_int_equal(a.start_ts, 0);
	st_runtime_answer_done(&a);
}

static void test_sandbox(void **state)
{
	struct fx *f = *state;
	struct st_rt_answer a = {.id = ID_B};

	bundle(f, "k8s.io", ID_B,
	       "{\"ociVersion\":\"1.0.2-dev\",\"annotations\":{"
	       "\"io.kubernetes.cri.container-type\":\"sandbox\","
	       "\"io.kubernetes.cri.sandbox-id\":\"" ID_B "\","
	       "\"io.kubernetes.cri.sandbox-log-directory\":\"/var/log/pods/shop_web-7d9f_u1\","
	       "\"io.kubernetes.cri.sandbox-name\":\"web-7d9f\","
	       "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
	       "\"io.kubernetes.cri.sandbox-uid\":\"u1\"}}");
	assert_int_equal(st_containerd_lookup(f->state, ID_B, &a, NULL, 0), 0);
	assert_true(a.ok);
	/* CRI gives a sandbox no container name and no image annotation */
	assert_string_equal(a.name, ID_B);
	assert_null(a.image);
	assert_string_equal(a.k8s_pod, "web-7d9f");
	assert_string_equal(a.k8s_ns, "shop");
	assert_string_equal(a.k8s_pod_uid, "u1");
	assert_null(a.mounts);
	st_runtime_answer_done(&a);
}

static void test_nerdctl_and_plain_ctr(void **state)
{
	struct fx *f = *state;
	struct st_rt_answer a = {.id = ID_A}, b = {.id = ID_B};

	bundle(f, "default", ID_A,
	       "{\"annotations\":{\"nerdctl/name\":\"redis-1\",\"nerdctl/namespace\":\"default\","
	       "\"nerdctl/hostname\":\"a1b2c3d4e5f6\"},\"mounts\":[{\"destination\":\"/data\","
	       "\"source\":\"/var/lib/nerdctl/vol\",\"options\":[\"rbind\",\"rshared\"]}]}");
	assert_int_equal(st_containerd_lookup(f->state, ID_A, &a, NULL, 0), 0);
	assert_string_equal(a.name, "redis-1");
	assert_null(a.image);
	assert_null(a.k8s_pod);
	assert_null(a.k8s_ns);
	assert_string_equal(a.mounts, "/var/lib/nerdctl/vol:/data::true:rshared");
	st_runtime_answer_done(&a);

	/* `ctr run`: no annotations at all, and odd mount entries that carry no strings */
	bundle(f, "default", ID_B,
	       "{\"annotations\":{},\"mounts\":[{\"destination\":\"/dev\"},7,{\"destination\":1}]}");
	assert_int_equal(st_containerd_lookup(f->state, ID_B, &b, NULL, 0), 0);
	assert_string_equal(b.name, ID_B);
	assert_null(b.image);
	assert_null(b.k8s_ns);
	assert_string_equal(b.mounts, ":/dev::true:,:::true:");
	st_runtime_answer_done(&b);
}

/* the bundle may sit in any namespace; a name that is a symlink is no namespace */
static void test_namespaces(void **state)
{
	struct fx *f = *state;
	struct st_rt_answer a = {.id = ID_A};
	char p[PATH_MAX * 2], t[PATH_MAX * 2];
	char err[512];

	bundle(f, "default", ID_B, "{}");
	bundle(f, "moby", ID_B, "{}");
	bundle(f, "team-a", ID_A, "{\"annotations\":{\"nerdctl/name\":\"found\"}}");
	assert_int_equal(st_containerd_lookup(f->state, ID_A, &a, NULL, 0), 0);
	assert_string_equal(a.name, "found");
	st_runtime_answer_done(&a);

	/* a namespace symlinked to a directory elsewhere is not followed */
	snprintf(t, sizeof(t), "%s/elsewhere/%s", f->root, ID_A);
	mkdirs(t);
	add(t, sizeof(t), "/config.json");
	write_all(t, "{}", 2);
	snprintf(p, sizeof(p), "%s/" TASKS "/team-a/%s/config.json", f->root, ID_A);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/" TASKS "/team-a/%s", f->root, ID_A);
	assert_int_equal(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/" TASKS "/team-a", f->root);
	assert_int_equal(rmdir(p), 0);
	snprintf(t, sizeof(t), "%s/elsewhere", f->root);
	assert_int_equal(symlink(t, p), 0);
	a = (struct st_rt_answer){.id = ID_A};
	assert_int_equal(st_containerd_lookup(f->state, ID_A, &a, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no bundle for " ID_A));
	assert_false(a.ok);
	assert_null(a.name);

	/* no state dir at all (containerd not installed) and no task dir yet */
	snprintf(p, sizeof(p), "%s/run/nothing", f->root);
	assert_int_equal(st_containerd_lookup(p, ID_A, &a, NULL, 0), -ENOENT);
	snprintf(p, sizeof(p), "%s/run", f->root);
	assert_int_equal(st_containerd_lookup(p, ID_A, &a, NULL, 0), -ENOENT);
}

static void test_bad_ids(void **state)
{
	struct fx *f = *state;
	struct st_rt_answer a = {0};
	char err[256];

	bundle(f, "k8s.io", ID_A, CRI_CONTAINER);
	static const char *const bad[] = {"",	    ".", "..", "../k8s.io/" ID_A, "k8s.io/" ID_A,
					  ".hidden"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(st_containerd_lookup(f->state, bad[i], &a, err, sizeof(err)),
				 -EINVAL);
		assert_false(a.ok);
	}
}

static void expect_fail(struct fx *f, const char *id, int want, const char *msg)
{
	struct st_rt_answer a = {.id = ID_A};
	char err[1024] = "";

	assert_int_equal(st_containerd_lookup(f->state, id, &a, err, sizeof(err)), want);
	/* *ret untouched: the container keeps only what it had */
	assert_false(a.ok);
	assert_null(a.name);
	assert_null(a.image);
	assert_null(a.k8s_pod);
	assert_null(a.mounts);
	if (!strstr(err, msg))
		fail_msg("error text '%s' lacks '%s'", err, msg);
}

static void test_malformed(void **state)
{
	struct fx *f = *state;

	bundle(f, "k8s.io", ID_A, "{\"annotations\":{\"io.kubernetes.cri.container-name\":\"x\"");
	expect_fail(f, ID_A, -EBADMSG, "not an OCI runtime spec");
	bundle(f, "k8s.io", ID_A, "[\"io.kubernetes.cri.container-name\",\"x\"]");
	expect_fail(f, ID_A, -EBADMSG, "not an OCI runtime spec");
	bundle(f, "k8s.io", ID_A, "");
	expect_fail(f, ID_A, -EBADMSG, "not an OCI runtime spec");
	/* odd value types are skipped, not trusted */
	bundle(f, "k8s.io", ID_A,
	       "{\"annotations\":{\"io.kubernetes.cri.container-name\":5,"
	       "\"io.kubernetes.cri.image-name\":\"\",\"io.kubernetes.cri.sandbox-name\":[\"p\"]},"
	       "\"mounts\":{\"destination\":\"/x\"}}");
	struct st_rt_answer a = {.id = ID_A};
	assert_int_equal(st_containerd_lookup(f->state, ID_A, &a, NULL, 0), 0);
	assert_string_equal(a.name, ID_A);
	assert_null(a.image);
	assert_null(a.k8s_pod);
	assert_null(a.mounts);
	st_runtime_answer_done(&a);
}

static void test_size_limit(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX * 2];
	size_t n = ST_CTD_MAX_CONFIG;
	char *big = malloc(n + 1);
	struct st_rt_answer a = {.id = ID_A};

	/* exactly at the limit: still read (JSON padded with whitespace) */
	static const char doc[] = "{\"annotations\":{\"nerdctl/name\":\"edge\"}}";
	memset(big, ' ', n);
	memcpy(big, doc, strlen(doc));
	snprintf(p, sizeof(p), "%s/" TASKS "/k8s.io/%s", f->root, ID_A);
	mkdirs(p);
	add(p, sizeof(p), "/config.json");
	write_all(p, big, n);
	assert_int_equal(st_containerd_lookup(f->state, ID_A, &a, NULL, 0), 0);
	assert_string_equal(a.name, "edge");
	st_runtime_answer_done(&a);
	/* one byte over */
	big[n] = ' ';
	write_all(p, big, n + 1);
	expect_fail(f, ID_A, -EFBIG, "too large");
	free(big);
}

static void test_not_regular(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX * 2], t[PATH_MAX * 2];

	/* config.json a symlink to a perfectly valid file elsewhere */
	snprintf(t, sizeof(t), "%s/real.json", f->root);
	write_all(t, CRI_CONTAINER, strlen(CRI_CONTAINER));
	snprintf(p, sizeof(p), "%s/" TASKS "/k8s.io/%s", f->root, ID_A);
	mkdirs(p);
	add(p, sizeof(p), "/config.json");
	assert_int_equal(symlink(t, p), 0);
	expect_fail(f, ID_A, -ELOOP, "config.json");

	/* the bundle directory a symlink to a valid bundle */
	snprintf(t, sizeof(t), "%s/" TASKS "/k8s.io/%s", f->root, ID_B);
	bundle(f, "k8s.io", ID_B, CRI_CONTAINER);
	snprintf(p, sizeof(p), "%s/" TASKS "/k8s.io/%s", f->root, ID_A "c");
	assert_int_equal(symlink(t, p), 0);
	expect_fail(f, ID_A "c", -ELOOP, "config.json");

	/* a directory, and a FIFO nobody writes to (must not hang) */
	snprintf(p, sizeof(p), "%s/" TASKS "/k8s.io/dir/config.json", f->root);
	mkdirs(p);
	expect_fail(f, "dir", -EINVAL, "config.json");
	snprintf(p, sizeof(p), "%s/" TASKS "/k8s.io/fifo", f->root);
	mkdirs(p);
	add(p, sizeof(p), "/config.json");
	assert_int_equal(mkfifo(p, 0600), 0);
	expect_fail(f, "fifo", -EINVAL, "config.json");
}

static void test_mounts_limit(void **state)
{
	struct fx *f = *state;
	struct strbuf sb;
	char src[1500];
	size_t n = 0;

	/* the shared joiner keeps whole entries only, and never more than ST_RT_MAX_MOUNTS bytes */
	memset(src, 's', sizeof(src) - 1);
	src[sizeof(src) - 1] = '\0';
	strbuf_init(&sb, ST_RT_MAX_MOUNTS);
	while (st_rt_mounts_add(&sb, src, "/d", "", true, "rprivate"))
		n++;
	assert_true(n > 10);
	assert_true(sb.len <= ST_RT_MAX_MOUNTS);
	assert_true(sb.len + strlen(src) + 20 > ST_RT_MAX_MOUNTS);
	assert_int_equal(sb.buf[sb.len - 1], 'e');
	strbuf_done(&sb);
	/* an entry longer than one field may be is left out too */
	char huge[3000];
	memset(huge, 'h', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	strbuf_init(&sb, ST_RT_MAX_MOUNTS);
	assert_false(st_rt_mounts_add(&sb, huge, "/d", "", true, NULL));
	assert_int_equal(sb.len, 0);
	strbuf_done(&sb);

	/* a bundle with 200 long mounts: the string stops at the limit, at an entry boundary */
	struct strbuf js;
	strbuf_init(&js, 0);
	strbuf_appends(&js, "{\"mounts\":[");
	for (int i = 0; i < 200; i++)
		strbuf_appendf(&js, "%s{\"destination\":\"/m%d\",\"source\":\"%s\"}", i ? "," : "",
			       i, src);
	strbuf_appends(&js, "]}");
	assert_false(js.failed);
	bundle(f, "k8s.io", ID_A, js.buf);
	strbuf_done(&js);
	struct st_rt_answer a = {.id = ID_A};
	assert_int_equal(st_containerd_lookup(f->state, ID_A, &a, NULL, 0), 0);
	assert_true(strlen(a.mounts) <= ST_RT_MAX_MOUNTS);
	assert_true(strlen(a.mounts) > ST_RT_MAX_MOUNTS - 1600);
	assert_int_equal(a.mounts[strlen(a.mounts) - 1], ':');
	assert_non_null(strstr(a.mounts, ":/m0::true:"));
	assert_null(strstr(a.mounts, ":/m199:"));
	st_runtime_answer_done(&a);
}

/* the cgroup shapes containerd's clients give a task, as seen on this machine and in nerdctl's defaults */
static void test_cgroup_shapes(void **state)
{
	static const struct {
		const char *path;
		int type; /* -1: not a container */
	} cases[] = {
		{"/k8s.io/" ID_A, ST_CT_CONTAINERD},  /* ctr run -n k8s.io, cgroupfs */
		{"/default/" ID_A, ST_CT_CONTAINERD}, /* ctr run / nerdctl, cgroupfs */
		{"/system.slice/nerdctl-" ID_A ".scope",
		 ST_CT_CONTAINERD}, /* nerdctl, systemd driver */
		{"/user.slice/user-1000.slice/user@1000.service/user.slice/nerdctl-" ID_A ".scope",
		 ST_CT_CONTAINERD}, /* rootless nerdctl */
		{"/system.slice/kubepods-burstable-pod1.slice/cri-containerd-" ID_A ".scope",
		 ST_CT_CONTAINERD},
		{"/system.slice/nerdctl-" ID_A "0.scope", -1}, /* 65 hex */
		{"/system.slice/nerdctl.service", -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum st_ct_type type = ST_CT_HOST;
		char id[ST_CT_ID_MAX + 1] = "";
		int r = st_cgroup_container(cases[i].path, strlen(cases[i].path), &type, id);
		if (cases[i].type < 0) {
			assert_int_equal(r, 0);
			continue;
		}
		assert_int_equal(r, 1);
		assert_int_equal(type, cases[i].type);
		assert_string_equal(id, ID_A);
	}
}

/* ---- through the worker and the state, as the daemon runs it ---- */

static void wait_answers(struct st_state *st)
{
	struct pollfd p = {.fd = st_runtime_fd(st), .events = POLLIN};
	assert_true(p.fd >= 0);
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(st_runtime_poll(st), 1);
}

static void test_state_worker(void **state)
{
	struct fx *f = *state;
	struct st_options o = {.host_root = f->root, .runtimes = true};
	struct st_stats s;

	bundle(f, "k8s.io", ID_A, CRI_CONTAINER);
	bundle(f, "k8s.io", ID_B, "{\"annotations\":{\"io.kubernetes.cri.container-name\":");
	struct st_state *st = st_new(&o);
	assert_non_null(st);

	uint32_t ia = st_container_get(st, ST_CT_CONTAINERD, ID_A, 1);
	assert_true(ia > 0);
	assert_int_equal(st_container_at(st, ia)->meta, ST_META_PENDING);
	wait_answers(st);
	const struct st_container *c = st_container_at(st, ia);
	assert_int_equal(c->meta, ST_META_DONE);
	assert_int_equal(c->type, ST_CT_CONTAINERD);
	assert_string_equal(c->name->s, "nginx");
	assert_string_equal(c->image->s, "registry.example.com:5000/team/nginx:1.25");
	assert_string_equal(c->k8s_pod->s, "web-7d9f");
	assert_string_equal(c->k8s_ns->s, "shop");
	assert_string_equal(c->k8s_pod_uid->s, "5f0c1d7e-2f7a-4e0b-9d7a-7f1d2c3b4a59");
	assert_non_null(strstr(c->mounts->s, ":/etc/hosts::true:rprivate"));

	/* malformed: the container keeps its id and type, and the failure is counted */
	uint32_t ib = st_container_get(st, ST_CT_CONTAINERD, ID_B, 2);
	wait_answers(st);
	c = st_container_at(st, ib);
	assert_int_equal(c->meta, ST_META_FAILED);
	assert_int_equal(c->type, ST_CT_CONTAINERD);
	assert_string_equal(c->id, ID_B);
	assert_null(c->name);
	assert_null(c->image);
	st_get_stats(st, &s);
	assert_int_equal(s.runtime_queries, 2);
	assert_int_equal(s.runtime_answers, 1);
	assert_int_equal(s.runtime_failures, 1);

	/* once containerd has written it properly, the retry after the backoff answers */
	bundle(f, "k8s.io", ID_B,
	       "{\"annotations\":{\"io.kubernetes.cri.container-name\":\"late\"}}");
	st_container_get(st, ST_CT_CONTAINERD, ID_B, 2 + 10 * ST_RT_RETRY_NS);
	wait_answers(st);
	c = st_container_at(st, ib);
	assert_int_equal(c->meta, ST_META_DONE);
	assert_string_equal(c->name->s, "late");
	st_free(st);
}

/* k3s's embedded containerd keeps its state under /run/k3s/containerd */
static void test_state_worker_k3s(void **state)
{
	struct fx *f = *state;
	struct st_options o = {.host_root = f->root, .runtimes = true};
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/%s",
		 f->root, ID_A);
	mkdirs(p);
	add(p, sizeof(p), "/config.json");
	write_all(p, CRI_CONTAINER, strlen(CRI_CONTAINER));
	struct st_state *st = st_new(&o);
	assert_non_null(st);
	uint32_t ia = st_container_get(st, ST_CT_CONTAINERD, ID_A, 1);
	wait_answers(st);
	assert_string_equal(st_container_at(st, ia)->name->s, "nginx");
	st_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cri_container, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sandbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nerdctl_and_plain_ctr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namespaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mounts_limit, setup, teardown),
		cmocka_unit_test(test_cgroup_shapes),
		cmocka_unit_test_setup_teardown(test_state_worker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_worker_k3s, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
