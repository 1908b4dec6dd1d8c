/* SPDX-License-Identifier: Apache-2.0 */
/* libkmod behind struct fc_kmod_ops: insert from a path, remove by name, initstate. Non-logging. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libkmod.h>

#include "common/err.h"
#include "driver.h"
#include "fc.h"

/* insmod's mod_strerror, with what we know about the usual causes. */
const char *fc_kmod_strerror(int err)
{
	switch (err) {
	case -ENOSYS:
		return "the kernel has no loadable module support (CONFIG_MODULES is not set)";
	case -ENOEXEC:
		return "invalid module format (built for another kernel?)";
	case -ENOENT:
		return "unknown symbol in module, or unknown parameter (see dmesg)";
	case -EEXIST:
		return "module already loaded";
	case -EPERM:
		return "operation not permitted (needs CAP_SYS_MODULE; module loading may be disabled by "
		       "kernel.modules_disabled or lockdown)";
	case -EKEYREJECTED:
	case -EKEYEXPIRED:
	case -ENOKEY:
		return "module signature rejected (module.sig_enforce or Secure Boot)";
	case -EINVAL:
		return "invalid module parameters or module format (see dmesg)";
	case -EBUSY:
	case -EAGAIN:
		return "module is in use";
	default:
		return strerror(-err);
	}
}

static void kmod_quiet(void *data, int priority, const char *file, int line, const char *fn,
		       const char *format, va_list args)
{
	/* libkmod's messages would bypass our reporter; errors come back as codes */
}

static struct kmod_ctx *kctx(char *errbuf, size_t errlen)
{
	struct kmod_ctx *k = kmod_new(NULL, NULL);
	if (!k) {
		errf(errbuf, errlen, -ENOMEM, "cannot create a libkmod context");
		return NULL;
	}
	kmod_set_log_fn(k, kmod_quiet, NULL);
	return k;
}

static bool real_supported(void *data, char *errbuf, size_t errlen)
{
	if (access("/proc/modules", F_OK) == 0)
		return true;
	errf(errbuf, errlen, -ENOSYS,
	     "this kernel was built without loadable module support (CONFIG_MODULES is not set: /proc/modules does "
	     "not exist), so the kmod driver cannot be used here; use modern_ebpf");
	return false;
}

static int real_insert(void *data, const char *path, const char *options, char *errbuf,
		       size_t errlen)
{
	struct kmod_ctx *k = kctx(errbuf, errlen);
	struct kmod_module *mod = NULL;
	int r;

	if (!k)
		return -ENOMEM;
	r = kmod_module_new_from_path(k, path, &mod);
	if (r < 0) {
		errf(errbuf, errlen, r, "cannot open module '%s': %s", path, strerror(-r));
		goto out;
	}
	r = kmod_module_insert_module(mod, 0, options ? options : "");
	if (r < 0)
		errf(errbuf, errlen, r, "could not insert '%s': %s", path, fc_kmod_strerror(r));
out:
	kmod_module_unref(mod);
	kmod_unref(k);
	return r;
}

static int real_remove(void *data, const char *name, char *errbuf, size_t errlen)
{
	struct kmod_ctx *k = kctx(errbuf, errlen);
	struct kmod_module *mod = NULL;
	int r;

	if (!k)
		return -ENOMEM;
	r = kmod_module_new_from_name(k, name, &mod);
	if (r < 0) {
		errf(errbuf, errlen, r, "cannot look up module '%s': %s", name, strerror(-r));
		goto out;
	}
	r = kmod_module_remove_module(mod, 0);
	if (r < 0)
		errf(errbuf, errlen, r, "could not remove module '%s': %s", name,
		     fc_kmod_strerror(r));
out:
	kmod_module_unref(mod);
	kmod_unref(k);
	return r;
}

static int real_state(void *data, const char *name, enum fc_kmod_state *ret, char *errbuf,
		      size_t errlen)
{
	struct kmod_ctx *k = kctx(errbuf, errlen);
	struct kmod_module *mod = NULL;
	int r;

	if (!k)
		return -ENOMEM;
	r = kmod_module_new_from_name(k, name, &mod);
	if (r < 0) {
		errf(errbuf, errlen, r, "cannot look up module '%s': %s", name, strerror(-r));
		goto out;
	}
	r = kmod_module_get_initstate(mod);
	switch (r) {
	case KMOD_MODULE_LIVE:
		*ret = FC_KMOD_LIVE;
		break;
	case KMOD_MODULE_COMING:
		*ret = FC_KMOD_COMING;
		break;
	case KMOD_MODULE_GOING:
		*ret = FC_KMOD_GOING;
		break;
	case KMOD_MODULE_BUILTIN:
		*ret = FC_KMOD_BUILTIN;
		break;
	default:
		*ret = FC_KMOD_ABSENT;
		break;
	}
	r = 0;
out:
	kmod_module_unref(mod);
	kmod_unref(k);
	return r;
}

const struct fc_kmod_ops fc_kmod_real = {
	.supported = real_supported,
	.insert = real_insert,
	.remove = real_remove,
	.state = real_state,
};
