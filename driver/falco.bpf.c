// SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only
/*
 * The probe's one compilation unit. Each program family lives in its own file (included below); they are built
 * as one object because libbpf 1.1's static linker (bpftool gen object) cannot link the weak kfunc extern
 * (bpf_rdonly_cast) that several families use.
 */
#include "dispatch.bpf.c"
#include "sys_file.bpf.c"
#include "sys_net.bpf.c"
#include "sys_proc.bpf.c"
#include "sched.bpf.c"
#include "enter.bpf.c"
